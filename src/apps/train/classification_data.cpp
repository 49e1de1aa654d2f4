#include "apps/train/classification_data.h"

#include <algorithm>
#include <cstring>

#include "core/random.h"

namespace laplex::train {

ClassificationData make_synthetic(std::int64_t train, std::int64_t test, std::int64_t features,
                                  std::int64_t classes, std::uint64_t seed) {
  if (train < 1 || test < 1 || features < 1 || classes < 2)
    throw UsageError("data: synthetic sizes must be positive, with at least 2 classes");
  Generator centres_rng(derive_seed(seed, 1000));
  const Tensor centres = randn({classes, features}, centres_rng, DType::f32);
  const float* c = centres.data<float>();
  auto make = [&](std::int64_t n, std::uint64_t stream) {
    Generator rng(derive_seed(seed, stream));
    Split split{randn({n, features}, rng, DType::f32), Tensor::empty({n}, DType::i64)};
    float* x = split.inputs.data<float>();
    std::int64_t* y = split.labels.data<std::int64_t>();
    for (std::int64_t i = 0; i < n; ++i) {
      y[i] = i % classes;
      // Centres about 0.3 sqrt(2 features) apart in unit noise: learnable, not trivial.
      for (std::int64_t j = 0; j < features; ++j)
        x[i * features + j] = x[i * features + j] + 0.3f * c[y[i] * features + j];
    }
    return split;
  };
  return {make(train, 1001), make(test, 1002), classes};
}

std::pair<Tensor, Tensor> gather_batch(const Split& split, const std::vector<std::int64_t>& indices,
                                       std::int64_t begin, std::int64_t end, Device device) {
  const std::int64_t count = end - begin;
  Shape shape = split.inputs.shape();
  shape[0] = count;
  const std::int64_t row = split.inputs.numel() / std::max<std::int64_t>(split.size(), 1);
  Tensor x = Tensor::empty(shape, DType::f32);
  Tensor y = Tensor::empty({count}, DType::i64);
  const float* src = split.inputs.data<float>();
  const std::int64_t* labels = split.labels.data<std::int64_t>();
  float* dst = x.data<float>();
  std::int64_t* out = y.data<std::int64_t>();
  for (std::int64_t k = 0; k < count; ++k) {
    const std::int64_t i = indices[begin + k];
    std::memcpy(dst + k * row, src + i * row, row * sizeof(float));
    out[k] = labels[i];
  }
  return {x.to(device), y.to(device)};
}

}  // namespace laplex::train
