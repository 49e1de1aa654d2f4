#pragma once
// metrics.jsonl: one JSON object per logged step or evaluation, appended and
// flushed line by line so a killed run keeps everything logged so far.
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

namespace laplex::train {

class MetricsWriter {
 public:
  // Appends to `path` (creating it); a resumed run continues the same file.
  explicit MetricsWriter(const std::string& path);
  void write(const nlohmann::json& record);

 private:
  std::string path_;
  std::ofstream out_;
};

}  // namespace laplex::train
