#include "data/transforms.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "core/random.h"

namespace laplex::data {

namespace {

struct Planes {
  std::int64_t channels, height, width;
};

Planes planes_of(const Shape& shape, const char* transform) {
  if (shape.size() == 2) return {1, shape[0], shape[1]};
  if (shape.size() == 3) return {shape[0], shape[1], shape[2]};
  throw Error(std::string(transform) + ": expected a (C, H, W) or (H, W) example, got " +
              shape_str(shape));
}

}  // namespace

Normalize::Normalize(std::vector<float> mean, std::vector<float> std) : mean_(std::move(mean)) {
  if (mean_.empty() || mean_.size() != std.size())
    throw UsageError("normalize: expected as many std values as mean values (at least one)");
  for (float s : std) {
    if (!(s > 0) || !std::isfinite(s)) throw UsageError("normalize: std values must be positive");
    inverse_std_.push_back(1.0f / s);
  }
}

void Normalize::apply(float* x, const Shape& shape, const philox::Block&) const {
  const std::int64_t channels = shape.empty() ? 1 : shape[0];
  const std::int64_t inner = shape.empty() ? 1 : numel(shape) / std::max<std::int64_t>(channels, 1);
  if (mean_.size() != 1 && static_cast<std::int64_t>(mean_.size()) != channels)
    throw UsageError("normalize: " + std::to_string(mean_.size()) +
                     " mean/std values for examples of shape " + shape_str(shape) +
                     " (expected 1 or " + std::to_string(channels) + ")");
  for (std::int64_t c = 0; c < channels; ++c) {
    const std::size_t k = mean_.size() == 1 ? 0 : static_cast<std::size_t>(c);
    float* p = x + c * inner;
    for (std::int64_t i = 0; i < inner; ++i) p[i] = (p[i] - mean_[k]) * inverse_std_[k];
  }
}

RandomCrop::RandomCrop(std::int64_t padding) : padding_(padding) {
  if (padding < 0) throw UsageError("random crop: padding must be >= 0");
}

void RandomCrop::apply(float* x, const Shape& shape, const philox::Block& random) const {
  const Planes p = planes_of(shape, "random crop");
  if (padding_ == 0) return;
  // Offsets into the padded picture in [0, 2 padding]; the window shifts the
  // content by (padding - dy, padding - dx), filling with zeros.
  const std::int64_t span = 2 * padding_ + 1;
  const std::int64_t dy = static_cast<std::int64_t>(random.v[0] % span) - padding_;
  const std::int64_t dx = static_cast<std::int64_t>(random.v[1] % span) - padding_;
  std::vector<float> plane(p.height * p.width);
  for (std::int64_t c = 0; c < p.channels; ++c) {
    float* data = x + c * p.height * p.width;
    std::copy(data, data + plane.size(), plane.begin());
    for (std::int64_t y = 0; y < p.height; ++y)
      for (std::int64_t col = 0; col < p.width; ++col) {
        const std::int64_t sy = y + dy, sx = col + dx;
        const bool inside = sy >= 0 && sy < p.height && sx >= 0 && sx < p.width;
        data[y * p.width + col] = inside ? plane[sy * p.width + sx] : 0.0f;
      }
  }
}

RandomHorizontalFlip::RandomHorizontalFlip(double probability) : probability_(probability) {
  if (!(probability >= 0 && probability <= 1))
    throw UsageError("random flip: probability must be in [0, 1]");
}

void RandomHorizontalFlip::apply(float* x, const Shape& shape, const philox::Block& random) const {
  const Planes p = planes_of(shape, "random flip");
  if (philox::uniform<double>(random) >= probability_) return;
  for (std::int64_t row = 0; row < p.channels * p.height; ++row)
    std::reverse(x + row * p.width, x + (row + 1) * p.width);
}

TransformedDataset::TransformedDataset(std::shared_ptr<const Dataset> base,
                                       std::vector<std::shared_ptr<const Transform>> transforms,
                                       std::uint64_t seed)
    : base_(std::move(base)), transforms_(std::move(transforms)), seed_(seed) {
  if (!base_) throw Error("TransformedDataset: no base dataset");
  for (const auto& t : transforms_)
    if (!t) throw Error("TransformedDataset: null transform");
}

void TransformedDataset::read(std::int64_t index, std::int64_t epoch, float* out,
                              std::int64_t* label) const {
  base_->read(index, epoch, out, label);
  const Shape shape = base_->example_shape();
  for (std::size_t k = 0; k < transforms_.size(); ++k) {
    // Transform k of epoch e has its own key; the example index is the counter.
    const std::uint64_t key = derive_seed(derive_seed(seed_, k), static_cast<std::uint64_t>(epoch));
    transforms_[k]->apply(out, shape, philox::generate(key, static_cast<std::uint64_t>(index)));
  }
}

}  // namespace laplex::data
