#include "data/dequantized_dataset.h"

#include "core/philox.h"
#include "core/random.h"

namespace laplex::data {

UniformDequantizedDataset::UniformDequantizedDataset(std::shared_ptr<const Dataset> base,
                                                     std::uint64_t seed, bool fixed)
    : base_(std::move(base)), seed_(seed), fixed_(fixed) {}

void UniformDequantizedDataset::read(std::int64_t index, std::int64_t epoch, float* out,
                                     std::int64_t* label) const {
  base_->read(index, epoch, out, label);
  const std::int64_t n = example_numel();
  const std::uint64_t key = derive_seed(seed_, fixed_ ? 0 : static_cast<std::uint64_t>(epoch) + 1);
  // One Philox block gives four 24-bit uniforms: values 4b .. 4b + 3 of the example.
  const std::uint64_t blocks_per_example = static_cast<std::uint64_t>((n + 3) / 4);
  const std::uint64_t first = static_cast<std::uint64_t>(index) * blocks_per_example;
  constexpr float kScale = 1.0f / 256.0f, kUnit = 1.0f / 16777216.0f;
  for (std::int64_t b = 0; b < (n + 3) / 4; ++b) {
    const philox::Block random = philox::generate(key, first + static_cast<std::uint64_t>(b));
    for (std::int64_t k = 0; k < 4 && 4 * b + k < n; ++k) {
      const float u = static_cast<float>(random.v[k] >> 8) * kUnit;
      out[4 * b + k] = (out[4 * b + k] + u) * kScale;
    }
  }
}

}  // namespace laplex::data
