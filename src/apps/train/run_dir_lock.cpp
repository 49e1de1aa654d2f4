#include "apps/train/run_dir_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "core/error.h"

namespace laplex::train {

RunDirLock::RunDirLock(const std::string& run_dir) {
  const std::string path = run_dir + "/.laplex-train.lock";
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0)
    throw UsageError(path + ": cannot create the run's lock file (" + std::strerror(errno) + ")");
  if (::flock(fd_, LOCK_EX | LOCK_NB) == 0) {
    // The holder's pid, for the message a second trainer prints.
    // A failed write costs only the pid in that message: the lock is held.
    const std::string pid = std::to_string(::getpid()) + "\n";
    if (::ftruncate(fd_, 0) == 0) {
      [[maybe_unused]] const ssize_t written = ::pwrite(fd_, pid.data(), pid.size(), 0);
    }
    return;
  }
  const int error = errno;
  if (error != EWOULDBLOCK) return;  // no flock here: run unlocked
  char buffer[32] = {};
  const ssize_t got = ::pread(fd_, buffer, sizeof buffer - 1, 0);
  std::string holder(buffer, got > 0 ? static_cast<std::size_t>(got) : 0);
  while (!holder.empty() && (holder.back() == '\n' || holder.back() == '\r')) holder.pop_back();
  ::close(fd_);
  fd_ = -1;
  throw UsageError("run_dir " + run_dir + " is in use by another laplex-train" +
                   (holder.empty() ? std::string() : " (pid " + holder + ")") +
                   ": wait for it to finish, or give this run another run_dir (--set run_dir=...)");
}

RunDirLock::~RunDirLock() {
  if (fd_ >= 0) ::close(fd_);  // closing drops the flock
}

}  // namespace laplex::train
