#pragma once
// The classification training loop behind laplex-train: builds the model
// from the config, trains with the configured optimizer and schedule,
// evaluates on the test split every epoch, logs metrics.jsonl, writes
// checkpoints, resumes exactly from one, and stops cleanly on SIGINT/SIGTERM.
#include <string>

#include "apps/train/train_config.h"

namespace laplex::train {

struct TrainOptions {
  std::string resume;  // a checkpoint step directory or run directory; empty: fresh run
  std::string device;  // overrides the config's device when set
};

struct TrainSummary {
  std::int64_t steps = 0;
  double test_loss = 0.0;
  double test_accuracy = 0.0;
  bool stopped_by_signal = false;
  std::string last_checkpoint;
};

TrainSummary train_classifier(const TrainConfig& config, const TrainOptions& options);

}  // namespace laplex::train
