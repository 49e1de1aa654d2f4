#pragma once
// One trainer per run directory. A second laplex-train on a live run_dir
// deleted the first one's checkpoint in progress (as a stale temporary) and
// appended its records to the same metrics.jsonl. The lock is an flock on
// run_dir/.laplex-train.lock, held while the object lives; the kernel drops
// it when the process ends however it ends, so a killed run leaves no stale
// lock. Where the file system has no flock (some network mounts) the run
// goes on unlocked.
//
//   RunDirLock(run_dir)   throws UsageError naming run_dir (and the holder's
//                         pid) when another process holds it
#include <string>

namespace laplex::train {

class RunDirLock {
 public:
  explicit RunDirLock(const std::string& run_dir);
  ~RunDirLock();
  RunDirLock(const RunDirLock&) = delete;
  RunDirLock& operator=(const RunDirLock&) = delete;

 private:
  int fd_ = -1;
};

}  // namespace laplex::train
