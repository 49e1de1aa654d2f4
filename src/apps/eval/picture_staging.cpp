#include "apps/eval/picture_staging.h"

#include <unistd.h>

#include <filesystem>

#include "apps/eval/picture.h"
#include "core/error.h"

namespace laplex::eval {

namespace fs = std::filesystem;

namespace {

// "pics/" names the folder pics: drop a trailing separator.
fs::path folder_path(const std::string& out_dir) {
  fs::path p = fs::path(out_dir).lexically_normal();
  if (p.filename().empty() && p.has_parent_path()) p = p.parent_path();
  return p;
}

}  // namespace

PictureStaging::PictureStaging(const std::string& out_dir) : out_dir_(out_dir) {
  check_picture_folder(out_dir);
  const fs::path target = folder_path(out_dir);
  // Beside the folder, on the same file system, so that commit() renames.
  const fs::path parent = target.has_parent_path() ? target.parent_path() : fs::path(".");
  make_picture_folder(parent.string());
  const fs::path staging =
      parent / ("." + target.filename().string() + ".explain-tmp-" + std::to_string(::getpid()));
  std::error_code ec;
  fs::remove_all(staging, ec);  // a leftover of a killed run with this pid
  fs::create_directory(staging, ec);
  if (ec)
    throw UsageError(out_dir + ": cannot make a folder beside it for the pictures (" +
                     staging.string() + ": " + ec.message() + ")");
  staging_ = staging.string();
}

PictureStaging::~PictureStaging() {
  std::error_code ec;
  if (!staging_.empty()) fs::remove_all(staging_, ec);
}

void PictureStaging::check_targets(const std::vector<std::string>& staged) const {
  const fs::path target = folder_path(out_dir_);
  std::error_code ec;
  if (staged.empty() || !fs::exists(target, ec)) return;
  if (!fs::is_directory(target, ec))
    throw UsageError(out_dir_ + ": is a file, expected the --explain folder");
  for (const auto& file : staged) {
    const fs::path to = target / fs::path(file).filename();
    if (fs::is_directory(to, ec))
      throw UsageError(to.string() + ": is a directory, where --explain writes a picture");
  }
}

std::vector<std::string> PictureStaging::commit(const std::vector<std::string>& staged) {
  check_targets(staged);
  const fs::path target = folder_path(out_dir_);
  std::vector<std::string> moved;
  if (staged.empty()) return moved;
  std::error_code ec;
  if (!fs::exists(target, ec)) {
    // One rename: the folder appears with every picture in it.
    fs::rename(staging_, target, ec);
    if (ec) throw Error(out_dir_ + ": cannot move the pictures in place: " + ec.message());
    staging_.clear();
    for (const auto& file : staged) moved.push_back((target / fs::path(file).filename()).string());
    return moved;
  }
  for (const auto& file : staged) {
    const fs::path to = target / fs::path(file).filename();
    fs::rename(file, to, ec);
    if (ec) throw Error(to.string() + ": cannot move the picture in place: " + ec.message());
    moved.push_back(to.string());
  }
  return moved;
}

}  // namespace laplex::eval
