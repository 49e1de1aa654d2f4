#include "apps/train/classification_task.h"

#include <cstdio>

#include "core/autograd/grad_mode.h"
#include "core/ops/elementwise.h"
#include "core/ops/loss.h"
#include "core/ops/reduce.h"

namespace laplex::train {

ClassificationTask::ClassificationTask(const TrainConfig& config, Device device)
    : config_(config), device_(device), data_(load_classification_data(config.data, config.seed)) {}

std::string ClassificationTask::describe_data() const {
  return std::to_string(data_.train.size()) + " train / " + std::to_string(data_.test.size()) +
         " test examples of shape " + shape_str(Shape(data_.train.inputs.shape().begin() + 1,
                                                      data_.train.inputs.shape().end())) +
         ", " + std::to_string(data_.classes) + " classes";
}

Shape ClassificationTask::sample_shape() const {
  Shape shape = data_.train.inputs.shape();
  shape[0] = 1;
  return shape;
}

Shape ClassificationTask::example_shape() const {
  return Shape(data_.train.inputs.shape().begin() + 1, data_.train.inputs.shape().end());
}

std::int64_t ClassificationTask::batches_per_epoch() const {
  return (data_.train.size() + config_.data.batch_size - 1) / config_.data.batch_size;
}

void ClassificationTask::start_epoch(std::int64_t epoch, std::int64_t first_batch) {
  order_ = epoch_order(data_.train.size(), config_.seed, epoch, config_.data.shuffle);
  next_ = first_batch;
}

TaskBatch ClassificationTask::next_batch() {
  const std::int64_t begin = next_ * config_.data.batch_size;
  const std::int64_t end = std::min(data_.train.size(), begin + config_.data.batch_size);
  ++next_;
  auto [x, y] = gather_batch(data_.train, order_, begin, end, device_);
  return {x, y, begin};
}

Tensor ClassificationTask::loss(Module& model, const TaskBatch& batch, std::int64_t /*epoch*/) {
  return cross_entropy(model.forward(batch.inputs), batch.labels, config_.loop.label_smoothing);
}

nlohmann::json ClassificationTask::evaluate(Module& model) {
  NoGradGuard no_grad;
  model.eval();
  const Split& split = data_.test;
  std::vector<std::int64_t> order(split.size());
  for (std::int64_t i = 0; i < split.size(); ++i) order[i] = i;
  double loss = 0.0, correct = 0.0;
  for (std::int64_t begin = 0; begin < split.size(); begin += config_.data.eval_batch_size) {
    const std::int64_t end = std::min(split.size(), begin + config_.data.eval_batch_size);
    auto [x, y] = gather_batch(split, order, begin, end, device_);
    const Tensor logits = model.forward(x);
    loss += cross_entropy(logits, y).item() * static_cast<double>(end - begin);
    correct += sum(eq(argmax(logits, 1).to(DType::f32), y.to(DType::f32))).item();
  }
  model.train();
  const double n = static_cast<double>(std::max<std::int64_t>(split.size(), 1));
  return {{"loss", loss / n}, {"accuracy", correct / n}};
}

std::string ClassificationTask::format_evaluation(const nlohmann::json& e) const {
  char line[128];
  std::snprintf(line, sizeof line, "test loss %.4f accuracy %.4f", e["loss"].get<double>(),
                e["accuracy"].get<double>());
  return line;
}

}  // namespace laplex::train
