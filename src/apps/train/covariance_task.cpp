#include "apps/train/covariance_task.h"

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "core/autograd/grad_mode.h"
#include "core/ops/elementwise.h"
#include "core/ops/reduce.h"
#include "core/ops/view.h"
#include "core/random.h"
#include "data/dequantized_dataset.h"
#include "layers/covariance/density_model.h"

namespace laplex::train {

namespace {

// Streams of the dequantisation noise: fresh per training epoch, fixed for
// the test split, so test scores are comparable from epoch to epoch.
constexpr std::uint64_t kTrainNoiseStream = 0xDE0A0000ull;
constexpr std::uint64_t kTestNoiseStream = 0xDE0B0000ull;
constexpr std::uint64_t kOrderSearchNoiseStream = 0xDE0C0000ull;

std::unique_ptr<data::Loader> loader(std::shared_ptr<const data::Dataset> pixels, std::uint64_t noise_seed,
                                     bool fixed, std::int64_t batch, bool shuffle, std::uint64_t seed,
                                     Device device) {
  data::LoaderOptions o;
  o.batch_size = batch;
  o.shuffle = shuffle;
  o.seed = seed;
  o.prefetch = 1;  // a batch of photo crops is 100 MB: one ahead hides the reading
  o.device = device;
  return std::make_unique<data::Loader>(
      std::make_shared<data::UniformDequantizedDataset>(std::move(pixels), noise_seed, fixed), o);
}

// (b, ...) -> (b, n): density models see flattened images.
Tensor rows(const Tensor& x) { return reshape(x, {x.size(0), x.numel() / std::max<std::int64_t>(x.size(0), 1)}); }

void check_nll_shape(const Tensor& nll, std::int64_t batch) {
  if (nll.dim() != 1 || nll.size(0) != batch)
    throw UsageError("model: task covariance needs a density model (laplex_ou, diagonal, ppca, "
                     "full) whose output is one NLL per row, got shape " + shape_str(nll.shape()));
}

}  // namespace

CovarianceTask::CovarianceTask(const TrainConfig& config, Device device)
    : config_(config), device_(device), data_(load_pixel_data(config.data, config.seed)) {
  train_ = loader(data_.train, derive_seed(config.seed, kTrainNoiseStream), false,
                  config.data.batch_size, config.data.shuffle, config.seed, device);
  test_ = loader(data_.test, derive_seed(config.seed, kTestNoiseStream), true,
                 config.data.eval_batch_size, false, config.seed, device);
}

std::string CovarianceTask::describe_data() const { return data_.description; }

Shape CovarianceTask::sample_shape() const { return {1, numel(data_.train->example_shape())}; }

Shape CovarianceTask::example_shape() const { return data_.train->example_shape(); }

std::int64_t CovarianceTask::batches_per_epoch() const { return train_->batches_per_epoch(); }

std::int64_t CovarianceTask::smallest_training_batch() const { return train_->smallest_batch(); }

namespace {

// Every laplex_ou of the model: the whole model, or inside a sequential.
void each_laplex_ou(Module& model, const std::function<void(LaplexOu&)>& visit) {
  if (auto* ou = dynamic_cast<LaplexOu*>(&model)) visit(*ou);
  for (const auto& [name, child] : model.children()) each_laplex_ou(*child, visit);
}

}  // namespace

void CovarianceTask::check_model(Module& model, bool fresh_run) const {
  each_laplex_ou(model, [&](LaplexOu& ou) {
    ou.check_device(device_);
    if (fresh_run) order_search_count(ou);
  });
}

void CovarianceTask::initialise_model(Module& model,
                                      const std::function<void(const std::string&)>& note) {
  each_laplex_ou(model, [&](LaplexOu& ou) { search_anchor_order(ou, note); });
}

std::int64_t CovarianceTask::order_search_count(const LaplexOu& ou) const {
  if (ou.options().order_search_images == 0) return 0;
  // Random crops are new images every epoch: the search may read several
  // epochs' worth (64 crops are too few to tell a pixel's neighbours apart
  // reliably). Fixed images are read once.
  const std::int64_t size = data_.train->size();
  const std::int64_t count = data_.train->examples_vary_by_epoch()
                                 ? ou.options().order_search_images
                                 : std::min(ou.options().order_search_images, size);
  if (count < 2 || size < 1)
    throw UsageError("model.order_search_images: the search needs at least 2 training images, it would "
                     "read " + std::to_string(count) + " of a training split of " + std::to_string(size));
  return count;
}

void CovarianceTask::search_anchor_order(LaplexOu& ou,
                                         const std::function<void(const std::string&)>& note) {
  const std::int64_t count = order_search_count(ou);
  if (count == 0) return;
  // The first `count` training images, dequantised with noise of their own
  // stream (the search must not consume the training stream's draws).
  const data::UniformDequantizedDataset images(
      data_.train, derive_seed(config_.seed, kOrderSearchNoiseStream), true);
  const std::int64_t size = images.size();
  const std::int64_t n = images.example_numel();
  note("anchor order search on " + std::to_string(count) + " training images of " +
       std::to_string(n) + " dimensions...");
  Tensor sample = Tensor::empty({count, n});
  float* values = sample.data<float>();
  // read() is thread-safe (Dataset's contract).
#pragma omp parallel for schedule(dynamic)
  for (std::int64_t i = 0; i < count; ++i) images.read(i % size, i / size, values + i * n, nullptr);
  const auto start = std::chrono::steady_clock::now();
  const OuOrderSearchResult r = ou.search_anchor_order(sample, kOuOrderSearchMaxSweeps);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  char line[256];
  std::snprintf(line, sizeof line,
                "anchor order search on %lld training images: path cost %.3f -> %.3f nats per image "
                "(%lld moves, %lld sweeps%s, %.1f s)",
                static_cast<long long>(count), r.start_cost, r.cost, static_cast<long long>(r.moves),
                static_cast<long long>(r.sweeps), r.converged ? "" : ", stopped before converging",
                seconds);
  note(r.phases.empty() ? std::string(line) : std::string(line) + " [" + r.phases + "]");
}

void CovarianceTask::start_epoch(std::int64_t epoch, std::int64_t first_batch) {
  train_->start_epoch(epoch, first_batch);
}

TaskBatch CovarianceTask::next_batch() {
  auto batch = train_->next();
  check(batch.has_value(), "CovarianceTask: asked for a batch past the end of the epoch");
  return {rows(batch->inputs), Tensor(), batch->index * config_.data.batch_size};
}

Tensor CovarianceTask::loss(Module& model, const TaskBatch& batch, std::int64_t /*epoch*/) {
  const Tensor nll = model.forward(batch.inputs);
  check_nll_shape(nll, batch.size());
  return div(mean(nll), static_cast<double>(batch.inputs.size(1)));
}

nlohmann::json CovarianceTask::train_fields(double mean_loss) const {
  return {{"bpd", bits_per_dimension(mean_loss, 1)}};
}

nlohmann::json CovarianceTask::evaluate(Module& model) {
  NoGradGuard no_grad;
  model.eval();
  const std::int64_t n = numel(data_.test->example_shape());
  double total = 0.0;
  test_->start_epoch(0);
  while (auto batch = test_->next()) {
    const Tensor nll = model.forward(rows(batch->inputs));
    check_nll_shape(nll, batch->inputs.size(0));
    total += sum(nll.to(DType::f64)).item();
  }
  model.train();
  const double per_dim =
      total / (static_cast<double>(std::max<std::int64_t>(data_.test->size(), 1)) * n);
  return {{"loss", per_dim}, {"bpd", bits_per_dimension(per_dim, 1)}};
}

std::string CovarianceTask::format_evaluation(const nlohmann::json& e) const {
  char line[128];
  std::snprintf(line, sizeof line, "test nll %.4f nats/dim bpd %.4f", e["loss"].get<double>(),
                e["bpd"].get<double>());
  return line;
}

}  // namespace laplex::train
