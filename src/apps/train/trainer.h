#pragma once
// The training loop behind laplex-train, shared by every task (task.h):
// builds the model from the config, trains with the configured optimizer and
// schedule, evaluates on the test split every epoch, logs metrics.jsonl,
// writes checkpoints, resumes exactly from one, and stops cleanly on
// SIGINT/SIGTERM.
#include <nlohmann/json.hpp>
#include <string>

#include "apps/train/train_config.h"

namespace laplex::train {

struct TrainOptions {
  std::string resume;  // a checkpoint step directory or run directory; empty: fresh run
  std::string device;  // overrides the config's device when set
};

struct TrainSummary {
  std::int64_t steps = 0;
  nlohmann::json test;  // the last evaluation ({"loss", "accuracy"} or {"loss", "bpd"})
  std::string test_line;  // the same, as the task prints it
  bool stopped_by_signal = false;
  std::string last_checkpoint;
};

TrainSummary train(const TrainConfig& config, const TrainOptions& options);

}  // namespace laplex::train
