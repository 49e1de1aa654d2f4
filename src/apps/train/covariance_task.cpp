#include "apps/train/covariance_task.h"

#include <cmath>
#include <cstdio>
#include <numeric>

#include "apps/train/classification_data.h"
#include "core/autograd/grad_mode.h"
#include "core/ops/elementwise.h"
#include "core/ops/reduce.h"
#include "core/ops/view.h"
#include "core/random.h"

namespace laplex::train {

namespace {

// Streams of the dequantisation noise: per training epoch, and one for the
// test split, so test scores are comparable from epoch to epoch.
constexpr std::uint64_t kTrainNoiseStream = 0xDE0A0000ull;
constexpr std::uint64_t kTestNoiseStream = 0xDE0B0000ull;

// x = (p + u) / 256 flattened to (count, n); example k of the epoch's order
// always gets the counters [k n, (k + 1) n) of its stream, whatever the batch size.
Tensor dequantise(const Tensor& pixels, std::uint64_t stream_seed, std::int64_t first, Device device) {
  const std::int64_t count = pixels.size(0), n = pixels.numel() / std::max<std::int64_t>(count, 1);
  Generator rng(stream_seed, static_cast<std::uint64_t>(first * n));
  const Tensor u = rand({count, n}, rng, DType::f32);
  Tensor x = reshape(pixels, {count, n}).clone();
  float* px = x.data<float>();
  const float* pu = u.data<float>();
  for (std::int64_t i = 0; i < x.numel(); ++i) px[i] = (px[i] + pu[i]) * (1.0f / 256.0f);
  return x.to(device);
}

void check_nll_shape(const Tensor& nll, std::int64_t batch) {
  if (nll.dim() != 1 || nll.size(0) != batch)
    throw UsageError("model: task covariance needs a density model (laplex_ou, diagonal, ppca, "
                     "full) whose output is one NLL per row, got shape " + shape_str(nll.shape()));
}

}  // namespace

double bits_per_dim(double nll_per_dim) { return (nll_per_dim + std::log(256.0)) / std::log(2.0); }

CovarianceTask::CovarianceTask(const TrainConfig& config, Device device)
    : config_(config), device_(device), data_(load_pixel_data(config.data, config.seed)) {}

std::string CovarianceTask::describe_data() const { return data_.description; }

Shape CovarianceTask::sample_shape() const { return {1, numel(data_.train->example_shape())}; }

Shape CovarianceTask::example_shape() const { return data_.train->example_shape(); }

std::int64_t CovarianceTask::batches_per_epoch() const {
  return (data_.train->size() + config_.data.batch_size - 1) / config_.data.batch_size;
}

void CovarianceTask::start_epoch(std::int64_t epoch, std::int64_t first_batch) {
  epoch_ = epoch;
  next_ = first_batch;
  order_ = epoch_order(data_.train->size(), config_.seed, epoch, config_.data.shuffle);
}

TaskBatch CovarianceTask::next_batch() {
  const std::int64_t begin = next_ * config_.data.batch_size;
  const std::int64_t end = std::min(data_.train->size(), begin + config_.data.batch_size);
  ++next_;
  const Tensor pixels = read_examples(*data_.train, order_, begin, end, epoch_);
  const std::uint64_t stream = derive_seed(config_.seed, kTrainNoiseStream + epoch_);
  return {dequantise(pixels, stream, begin, device_), Tensor(), begin};
}

Tensor CovarianceTask::loss(Module& model, const TaskBatch& batch, std::int64_t /*epoch*/) {
  const Tensor nll = model.forward(batch.inputs);
  check_nll_shape(nll, batch.size());
  return div(mean(nll), static_cast<double>(batch.inputs.size(1)));
}

nlohmann::json CovarianceTask::train_fields(double mean_loss) const {
  return {{"bpd", bits_per_dim(mean_loss)}};
}

nlohmann::json CovarianceTask::evaluate(Module& model) {
  NoGradGuard no_grad;
  model.eval();
  const data::Dataset& test = *data_.test;
  std::vector<std::int64_t> order(test.size());
  std::iota(order.begin(), order.end(), 0);
  const std::uint64_t stream = derive_seed(config_.seed, kTestNoiseStream);
  const std::int64_t n = numel(test.example_shape());
  double total = 0.0;
  for (std::int64_t begin = 0; begin < test.size(); begin += config_.data.eval_batch_size) {
    const std::int64_t end = std::min(test.size(), begin + config_.data.eval_batch_size);
    const Tensor x = dequantise(read_examples(test, order, begin, end, 0), stream, begin, device_);
    const Tensor nll = model.forward(x);
    check_nll_shape(nll, end - begin);
    total += sum(nll.to(DType::f64)).item();
  }
  model.train();
  const double per_dim = total / (static_cast<double>(std::max<std::int64_t>(test.size(), 1)) * n);
  return {{"loss", per_dim}, {"bpd", bits_per_dim(per_dim)}};
}

std::string CovarianceTask::format_evaluation(const nlohmann::json& e) const {
  char line[128];
  std::snprintf(line, sizeof line, "test nll %.4f nats/dim bpd %.4f", e["loss"].get<double>(),
                e["bpd"].get<double>());
  return line;
}

}  // namespace laplex::train
