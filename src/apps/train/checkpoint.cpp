#include "apps/train/checkpoint.h"

#include <fcntl.h>
#include <stdio.h>  // renameat2, RENAME_EXCHANGE
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <vector>

#include "core/finite_check.h"
#include "core/printable.h"
#include "core/safetensors.h"

namespace laplex::train {

namespace fs = std::filesystem;

namespace {

// fsync a file or directory so a rename that follows is durable.
void sync_path(const fs::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) throw Error(path.string() + ": cannot open to sync");
  const int status = ::fsync(fd);
  ::close(fd);
  if (status != 0) throw Error(path.string() + ": fsync failed");
}

std::string step_name(std::int64_t step) {
  char name[32];
  std::snprintf(name, sizeof name, "step-%08lld", static_cast<long long>(step));
  return name;
}

// Removes all but the newest keep_last checkpoints up to `newest` (the one
// `latest` names): a checkpoint of a later step, which the trainer refuses
// to write next to, is never what a prune removes.
void prune(const fs::path& checkpoints, int keep_last, std::int64_t newest) {
  if (keep_last <= 0) return;
  std::vector<std::pair<std::int64_t, fs::path>> steps;
  for (const auto& [step, path] : checkpoint_steps(checkpoints.parent_path().string()))
    if (step <= newest) steps.emplace_back(step, path);
  for (std::size_t i = 0; i + keep_last < steps.size(); ++i) fs::remove_all(steps[i].second);
}

// Puts `from` where `to` is. A step saved again (a finished run resumed in
// place) swaps the folders in one call, so no moment exists where `latest`
// names a folder that is gone; the old one is removed after.
void move_into_place(const fs::path& from, const fs::path& to) {
  if (fs::exists(to) &&
      ::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_EXCHANGE) == 0) {
    fs::remove_all(from);
    return;
  }
  fs::remove_all(to);  // a file system without RENAME_EXCHANGE
  fs::rename(from, to);
}

}  // namespace

std::string write_checkpoint(const std::string& run_dir, std::int64_t step,
                             const Checkpoint& checkpoint, int keep_last) {
  const fs::path checkpoints = fs::path(run_dir) / "checkpoints";
  fs::create_directories(checkpoints);
  const std::string name = step_name(step);
  const fs::path final_dir = checkpoints / name;
  const fs::path temp_dir = checkpoints / (name + ".tmp-" + std::to_string(::getpid()));
  fs::remove_all(temp_dir);
  fs::create_directories(temp_dir);

  try {
    auto model_metadata = checkpoint.model_metadata;
    model_metadata["format_version"] = kCheckpointFormatVersion;
    model_metadata["step"] = std::to_string(step);
    write_safetensors((temp_dir / "model.safetensors").string(), checkpoint.model, model_metadata);
    auto train_metadata = checkpoint.train_metadata;
    train_metadata["format_version"] = kCheckpointFormatVersion;
    train_metadata["step"] = std::to_string(step);
    write_safetensors((temp_dir / "train_state.safetensors").string(), checkpoint.train_state,
                      train_metadata);
    sync_path(temp_dir / "model.safetensors");
    sync_path(temp_dir / "train_state.safetensors");
    sync_path(temp_dir);
  } catch (...) {
    // A full disk: give the space of the half-written copy back now.
    std::error_code ec;
    fs::remove_all(temp_dir, ec);
    throw;
  }

  move_into_place(temp_dir, final_dir);
  sync_path(checkpoints);

  // `latest` is replaced only by a file known to be whole: an unchecked
  // write on a full disk renamed an empty file over the good pointer.
  const fs::path latest_temp = checkpoints / ("latest.tmp-" + std::to_string(::getpid()));
  {
    std::ofstream out(latest_temp, std::ios::trunc);
    out << name << "\n";
    out.close();
    if (!out) {
      const int error = errno;
      std::error_code ec;
      fs::remove(latest_temp, ec);
      throw Error(latest_temp.string() + ": write failed (" + std::strerror(error) + "); " +
                  final_dir.string() + " is whole and --resume finds it");
    }
  }
  sync_path(latest_temp);
  fs::rename(latest_temp, checkpoints / "latest");
  sync_path(checkpoints);
  prune(checkpoints, keep_last, step);
  return final_dir.string();
}

namespace {

// A step directory's name as write_checkpoint makes it: step- and up to 18
// digits (a step number of int64). What `latest` holds must be one too;
// anything else (binary junk, a path, a name longer than a file name may
// be) is reported without echoing it.
bool is_step_name(const std::string& name) {
  return name.size() > 5 && name.size() <= 23 && name.rfind("step-", 0) == 0 &&
         name.find_first_not_of("0123456789", 5) == std::string::npos;
}

}  // namespace

std::vector<std::pair<std::int64_t, std::string>> checkpoint_steps(const std::string& run_dir) {
  std::vector<std::pair<std::int64_t, std::string>> steps;
  const fs::path checkpoints = fs::path(run_dir) / "checkpoints";
  std::error_code ec;
  if (!fs::is_directory(checkpoints, ec)) return steps;
  for (const auto& entry : fs::directory_iterator(checkpoints)) {
    const std::string name = entry.path().filename().string();
    if (!entry.is_directory() || !is_step_name(name)) continue;
    steps.emplace_back(std::stoll(name.substr(5)), entry.path().string());
  }
  std::sort(steps.begin(), steps.end());
  return steps;
}

void remove_stale_temporaries(const std::string& run_dir) {
  const fs::path checkpoints = fs::path(run_dir) / "checkpoints";
  std::error_code ec;
  if (!fs::is_directory(checkpoints, ec)) return;
  for (const auto& entry : fs::directory_iterator(checkpoints)) {
    const std::string name = entry.path().filename().string();
    if (name.find(".tmp-") != std::string::npos) fs::remove_all(entry.path());
  }
}

void check_run_dir(const std::string& run_dir, bool fresh) {
  const fs::path checkpoints = fs::path(run_dir) / "checkpoints";
  std::error_code ec;
  if (fs::exists(checkpoints, ec) && !fs::is_directory(checkpoints, ec))
    throw UsageError(checkpoints.string() + ": is not a directory (run_dir " + run_dir +
                     " must be free for checkpoints)");
  if (fs::is_directory(checkpoints / "latest", ec))
    throw UsageError((checkpoints / "latest").string() + ": is a directory, expected a file");
  // A FIFO or device there would block the run or swallow its log.
  for (const char* file : {"train.log", "metrics.jsonl"}) {
    const fs::path path = fs::path(run_dir) / file;
    const fs::file_status status = fs::status(path, ec);
    if (fs::is_directory(status))
      throw UsageError(path.string() + ": is a directory, expected the run's file (it is appended to)");
    if (fs::exists(status) && !fs::is_regular_file(status))
      throw UsageError(path.string() +
                       ": is not a regular file (a pipe or device?), expected the run's file "
                       "(it is appended to)");
  }
  const auto steps = checkpoint_steps(run_dir);
  if (fresh && !steps.empty())
    throw UsageError("run_dir " + run_dir + " already holds checkpoints (up to " +
                     fs::path(steps.back().second).filename().string() +
                     "): continue that run with --resume " + run_dir +
                     ", or give this one another run_dir (--set run_dir=...)");
}

// A run directory's checkpoint is the one `latest` names, unless a newer
// step directory exists or `latest` is missing or unreadable: a step
// directory appears only whole (renamed from its temporary copy), and the
// trainer never lets a run_dir hold checkpoints past the one it resumes, so
// a newer one means the process died (or the disk filled) between moving
// it into place and rewriting `latest`. Both used to leave the run stuck:
// --resume of the run refused, and a fresh run refused the run_dir.
std::string resolve_checkpoint_dir(const std::string& path) {
  const fs::path p(path);
  std::error_code ec;  // a path too long for the system reads as absent
  if (fs::exists(p / "model.safetensors", ec)) return p.string();
  const fs::path latest = p / "checkpoints" / "latest";
  std::string newest;  // the newest step directory holding a model
  std::int64_t newest_step = -1;
  const auto steps = checkpoint_steps(path);
  for (auto it = steps.rbegin(); it != steps.rend() && newest.empty(); ++it)
    if (fs::exists(fs::path(it->second) / "model.safetensors", ec)) {
      newest = it->second;
      newest_step = it->first;
    }
  if (fs::exists(latest, ec)) {
    std::ifstream in(latest);
    std::string name;
    std::getline(in, name);
    const fs::path dir = p / "checkpoints" / name;
    // is_step_name bounds the digits, so the number fits an int64.
    if (is_step_name(name) && fs::exists(dir / "model.safetensors", ec) &&
        std::stoll(name.substr(5)) >= newest_step)
      return dir.string();
    if (!newest.empty()) return newest;
    if (!is_step_name(name))
      throw UsageError(latest.string() + ": expected the name of a step directory "
                       "(step-NNNNNNNN) on its first line");
    throw UsageError(latest.string() + ": names '" + name + "', which is not a checkpoint");
  }
  if (!newest.empty()) return newest;
  if (!fs::exists(p, ec)) throw UsageError(path + ": no such checkpoint or run directory");
  throw UsageError(path + ": not a checkpoint (no model.safetensors) nor a run directory "
                   "(no checkpoints/latest)");
}

namespace {

// A run stops at its first non-finite loss before it checkpoints, so a NaN
// or infinity in a checkpoint means a damaged or foreign file: reported
// here rather than evaluated to NaN scores or trained on. The name comes
// from the file's header and may hold any byte.
void check_finite(const std::map<std::string, Tensor>& tensors, const std::string& file) {
  for (const auto& [name, tensor] : tensors)
    if (const std::int64_t at = first_non_finite(tensor); at >= 0)
      throw UsageError(file + ": tensor '" + printable(name) +
                       "' holds a NaN or an infinity (element " + std::to_string(at) + ")");
}

}  // namespace

Checkpoint read_checkpoint(const std::string& step_dir, bool with_train_state) {
  Checkpoint out;
  const std::string model_file = (fs::path(step_dir) / "model.safetensors").string();
  auto model = read_safetensors(model_file);
  check_finite(model.tensors, model_file);
  out.model = std::move(model.tensors);
  out.model_metadata = std::move(model.metadata);
  if (with_train_state) {
    const std::string state_file = (fs::path(step_dir) / "train_state.safetensors").string();
    auto state = read_safetensors(state_file);
    check_finite(state.tensors, state_file);
    out.train_state = std::move(state.tensors);
    out.train_metadata = std::move(state.metadata);
  }
  return out;
}

}  // namespace laplex::train
