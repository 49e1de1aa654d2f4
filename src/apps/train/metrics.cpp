#include "apps/train/metrics.h"

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "core/error.h"

namespace laplex::train {

namespace fs = std::filesystem;

namespace {

// The length of `path` up to and including its last newline: what remains
// once an unfinished last line is cut off.
std::uintmax_t whole_lines_size(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return 0;
  in.seekg(0, std::ios::end);
  std::streamoff end = in.tellg();
  char c = 0;
  while (end > 0) {
    in.seekg(end - 1);
    if (!in.get(c)) return 0;
    if (c == '\n') break;
    --end;
  }
  return static_cast<std::uintmax_t>(end);
}

// Rewrites the whole lines of `path` that `keep` accepts through a
// temporary file renamed over it, so a failure leaves the file as it was.
void drop_records(const std::string& path, std::uintmax_t size,
                  const MetricsWriter::KeepRecord& keep) {
  std::ifstream in(path, std::ios::binary);
  std::string kept, line;
  bool dropped = false;
  std::uintmax_t read = 0;
  while (read < size && std::getline(in, line)) {
    read += line.size() + 1;
    const nlohmann::json record = nlohmann::json::parse(line, nullptr, false);
    if (!record.is_discarded() && !keep(record)) {
      dropped = true;
      continue;
    }
    kept += line + "\n";
  }
  if (!dropped) return;
  const std::string temp = path + ".tmp";
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    out.write(kept.data(), static_cast<std::streamsize>(kept.size()));
    out.close();
    if (!out) {
      std::error_code ec;
      fs::remove(temp, ec);
      throw Error(temp + ": write failed (" + std::strerror(errno) + ")");
    }
  }
  fs::rename(temp, path);
}

}  // namespace

MetricsWriter::MetricsWriter(const std::string& path, const KeepRecord& keep) : path_(path) {
  std::error_code ec;
  if (fs::exists(path_, ec)) {
    size_ = whole_lines_size(path_);
    if (size_ != fs::file_size(path_, ec)) fs::resize_file(path_, size_, ec);
    if (ec)
      throw UsageError(path_ + ": cannot cut off its unfinished last line (" + ec.message() + ")");
    if (keep) {
      drop_records(path_, size_, keep);
      size_ = fs::file_size(path_, ec);
    }
  }
  out_.open(path_, std::ios::app | std::ios::binary);
  if (!out_)
    throw UsageError(path_ + ": cannot open metrics file for writing (" + std::strerror(errno) +
                     ")");
}

void MetricsWriter::write(const nlohmann::json& record) {
  const std::string line = record.dump() + "\n";
  out_.write(line.data(), static_cast<std::streamsize>(line.size()));
  out_.flush();
  if (out_) {
    size_ += line.size();
    return;
  }
  const int error = errno;
  // Part of the line may have reached the file: cut it back to the last
  // whole record, and reopen so the next write starts clean.
  out_.close();
  std::error_code ec;
  fs::resize_file(path_, size_, ec);
  out_.clear();
  out_.open(path_, std::ios::app | std::ios::binary);
  throw Error(path_ + ": write failed (" + std::strerror(error) + ")");
}

}  // namespace laplex::train
