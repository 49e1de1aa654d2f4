#pragma once
// metrics.jsonl: one JSON object per logged step or evaluation, appended and
// flushed line by line so a killed run keeps everything logged so far. A
// record is whole or absent: a write that fails (a full disk) is cut back
// off the file before the error is thrown, and a line left unfinished by a
// killed process is cut off when the file is opened again, so every line a
// reader meets parses. A resumed run would log again the records between
// its checkpoint and the interruption: those are dropped when it opens the
// file, so each step appears once.
#include <cstdint>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>

namespace laplex::train {

class MetricsWriter {
 public:
  // Which existing records stay (a resumed run drops those past its
  // checkpoint, which it writes again); unparsable lines always stay.
  using KeepRecord = std::function<bool(const nlohmann::json&)>;

  // Appends to `path` (creating it); a resumed run continues the same file,
  // first rewriting it (atomically) without the records `keep` refuses.
  explicit MetricsWriter(const std::string& path, const KeepRecord& keep = nullptr);
  void write(const nlohmann::json& record);

 private:
  std::string path_;
  std::ofstream out_;
  std::uintmax_t size_ = 0;  // bytes of whole records in the file
};

}  // namespace laplex::train
