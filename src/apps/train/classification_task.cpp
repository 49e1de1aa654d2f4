#include "apps/train/classification_task.h"

#include <cstdio>

#include "core/autograd/grad_mode.h"
#include "core/ops/elementwise.h"
#include "core/ops/loss.h"
#include "core/ops/reduce.h"
#include "core/random.h"
#include "data/tensor_dataset.h"
#include "data/transforms.h"

namespace laplex::train {

namespace {

// The training examples as the model sees them: augmented, then normalised.
std::shared_ptr<const data::Dataset> training_set(const Split& raw, const DataConfig& config,
                                                  std::uint64_t seed) {
  std::vector<std::shared_ptr<const data::Transform>> transforms;
  if (config.random_crop > 0) transforms.push_back(std::make_shared<data::RandomCrop>(config.random_crop));
  if (config.hflip) transforms.push_back(std::make_shared<data::RandomHorizontalFlip>());
  if (!config.mean.empty())
    transforms.push_back(std::make_shared<data::Normalize>(
        std::vector<float>(config.mean.begin(), config.mean.end()),
        std::vector<float>(config.std.begin(), config.std.end())));
  auto base = std::make_shared<data::TensorDataset>(raw.inputs, raw.labels);
  if (transforms.empty()) return base;
  return std::make_shared<data::TransformedDataset>(base, transforms, derive_seed(seed, 3001));
}

DataConfig without_normalisation(DataConfig config) {
  config.mean.clear();
  config.std.clear();
  return config;
}

}  // namespace

ClassificationTask::ClassificationTask(const TrainConfig& config, Device device)
    : config_(config),
      device_(device),
      data_(load_classification_data(without_normalisation(config.data), config.seed)) {
  if ((config.data.random_crop > 0 || config.data.hflip) && data_.train.inputs.dim() < 3)
    throw UsageError("data.random_crop/hflip: need image inputs (N, C, H, W), got " +
                     shape_str(data_.train.inputs.shape()));
  normalize_inputs(data_.test.inputs, config.data);
  data::LoaderOptions o;
  o.batch_size = config.data.batch_size;
  o.shuffle = config.data.shuffle;
  o.seed = config.seed;
  o.prefetch = 2;
  o.device = device;
  loader_ = std::make_unique<data::Loader>(training_set(data_.train, config.data, config.seed), o);
}

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

std::int64_t ClassificationTask::batches_per_epoch() const { return loader_->batches_per_epoch(); }

std::int64_t ClassificationTask::smallest_training_batch() const {
  return loader_->smallest_batch();
}

void ClassificationTask::check_model_output(const Shape& output) const {
  if (output.size() != 2)
    throw UsageError(config_.file + ": the model's output " + shape_str(output) +
                     " is not (batch, classes) logits (a flatten layer missing?)");
  const std::int64_t width = output.back();
  if (width < data_.classes)
    throw UsageError(config_.file + ": the model's output " + shape_str(output) + " has " +
                     std::to_string(width) + " logits a row, the data's labels need " +
                     std::to_string(data_.classes) + " (labels 0.." +
                     std::to_string(data_.classes - 1) + ")");
}

void ClassificationTask::start_epoch(std::int64_t epoch, std::int64_t first_batch) {
  loader_->start_epoch(epoch, first_batch);
}

TaskBatch ClassificationTask::next_batch() {
  auto batch = loader_->next();
  check(batch.has_value(), "ClassificationTask: asked for a batch past the end of the epoch");
  return {batch->inputs, batch->labels, batch->index * config_.data.batch_size};
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
