#pragma once
// Task `classification`: cross-entropy (with optional label smoothing) on
// labelled examples; evaluation reports test loss and accuracy. Training
// batches come from a data::Loader (seeded order, background prefetch) over
// the training split with the configured augmentation (random crop with
// zero padding, horizontal flip) followed by the normalisation, the order
// torchvision users know; the test split is normalised once in memory.
#include "apps/train/classification_data.h"
#include "apps/train/task.h"
#include "data/loader.h"

namespace laplex::train {

class ClassificationTask : public Task {
 public:
  ClassificationTask(const TrainConfig& config, Device device);
  std::string describe_data() const override;
  Shape sample_shape() const override;
  Shape example_shape() const override;
  std::int64_t batches_per_epoch() const override;
  std::int64_t smallest_training_batch() const override;
  void check_model_output(const Shape& output) const override;
  void start_epoch(std::int64_t epoch, std::int64_t first_batch) override;
  TaskBatch next_batch() override;
  Tensor loss(Module& model, const TaskBatch& batch, std::int64_t epoch) override;
  nlohmann::json evaluate(Module& model) override;
  std::string format_evaluation(const nlohmann::json& evaluation) const override;

 private:
  const TrainConfig& config_;
  Device device_;
  ClassificationData data_;  // the train split raw, the test split normalised
  std::unique_ptr<data::Loader> loader_;
};

}  // namespace laplex::train
