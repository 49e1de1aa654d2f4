// load_classification_data: the datasets a classification config can name.
#include "apps/train/classification_data.h"
#include "data/idx.h"

namespace laplex::train {

namespace {

// Per-channel (x - mean) / std on (N, C, ...) inputs.
void normalize(Tensor& inputs, const DataConfig& config) {
  if (config.mean.empty()) return;
  const std::int64_t n = inputs.size(0), c = inputs.dim() > 1 ? inputs.size(1) : 1;
  if (static_cast<std::int64_t>(config.mean.size()) != c)
    throw UsageError("data.mean: " + std::to_string(config.mean.size()) + " values for " +
                     std::to_string(c) + " channels");
  const std::int64_t per_channel = inputs.numel() / std::max<std::int64_t>(n * c, 1);
  float* p = inputs.data<float>();
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t ch = 0; ch < c; ++ch) {
      float* q = p + (i * c + ch) * per_channel;
      const float m = static_cast<float>(config.mean[ch]), s = static_cast<float>(config.std[ch]);
      for (std::int64_t k = 0; k < per_channel; ++k) q[k] = (q[k] - m) / s;
    }
}

}  // namespace

ClassificationData load_classification_data(const DataConfig& config, std::uint64_t seed) {
  ClassificationData data;
  if (config.dataset == "synthetic") {
    data = make_synthetic(config.synthetic_train, config.synthetic_test, config.synthetic_features,
                          config.synthetic_classes, seed);
  } else {
    auto train = data::load_mnist_format(config.root, "train");
    auto test = data::load_mnist_format(config.root, "test");
    data.train = {train.images, train.labels};
    data.test = {test.images, test.labels};
    data.classes = 10;
  }
  normalize(data.train.inputs, config);
  normalize(data.test.inputs, config);
  return data;
}

}  // namespace laplex::train
