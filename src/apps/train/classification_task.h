#pragma once
// Task `classification`: cross-entropy (with optional label smoothing) on
// labelled examples; evaluation reports test loss and accuracy.
#include "apps/train/classification_data.h"
#include "apps/train/task.h"

namespace laplex::train {

class ClassificationTask : public Task {
 public:
  ClassificationTask(const TrainConfig& config, Device device);
  std::string describe_data() const override;
  Shape sample_shape() const override;
  Shape example_shape() const override;
  std::int64_t batches_per_epoch() const override;
  void start_epoch(std::int64_t epoch, std::int64_t first_batch) override;
  TaskBatch next_batch() override;
  Tensor loss(Module& model, const TaskBatch& batch, std::int64_t epoch) override;
  nlohmann::json evaluate(Module& model) override;
  std::string format_evaluation(const nlohmann::json& evaluation) const override;

 private:
  const TrainConfig& config_;
  Device device_;
  ClassificationData data_;
  std::vector<std::int64_t> order_;
  std::int64_t next_ = 0;
};

}  // namespace laplex::train
