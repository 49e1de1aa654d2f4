#include "apps/train/metrics.h"

#include "core/error.h"

namespace laplex::train {

MetricsWriter::MetricsWriter(const std::string& path) : path_(path), out_(path, std::ios::app) {
  if (!out_) throw UsageError(path + ": cannot open metrics file for writing");
}

void MetricsWriter::write(const nlohmann::json& record) {
  out_ << record.dump() << "\n";
  out_.flush();
  if (!out_) throw Error(path_ + ": write failed");
}

}  // namespace laplex::train
