#pragma once
// The --explain folder, filled all or nothing. Pictures are written to a
// hidden folder beside it and moved in by commit(), once every picture and
// every other output of the command is written; a failure before that
// leaves the folder as it was (the hidden one is removed), so a folder of
// pictures is never half old and half new.
#include <string>
#include <vector>

namespace laplex::eval {

class PictureStaging {
 public:
  // A file where the folder or a parent should be is a UsageError naming it;
  // the hidden folder is made here (and the parents of out_dir).
  explicit PictureStaging(const std::string& out_dir);
  PictureStaging(const PictureStaging&) = delete;
  PictureStaging& operator=(const PictureStaging&) = delete;
  ~PictureStaging();

  // Where the pictures are written until commit().
  const std::string& folder() const { return staging_; }
  // A UsageError when a file of `staged` (paths in folder()) could not
  // take its place in out_dir (a directory of its name is there): for a
  // caller with other outputs to write before commit().
  void check_targets(const std::vector<std::string>& staged) const;
  // Moves the files of `staged` into out_dir and returns their new paths,
  // after check_targets. With nothing staged, out_dir is not created.
  std::vector<std::string> commit(const std::vector<std::string>& staged);

 private:
  std::string out_dir_;
  std::string staging_;  // empty once renamed into place
};

}  // namespace laplex::eval
