#include "layers/fft/fft_init.h"

#include <cmath>
#include <vector>

#include "core/ops/fft.h"

namespace laplex::fft_init {

std::mt19937_64 generator(std::uint64_t seed, std::uint64_t stream) {
  std::seed_seq sequence{static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32),
                         static_cast<std::uint32_t>(stream),
                         static_cast<std::uint32_t>(stream >> 32)};
  return std::mt19937_64(sequence);
}

Tensor random_filter_spectrum(std::int64_t length, std::int64_t fan_in, std::mt19937_64& rng) {
  std::normal_distribution<double> normal(0.0, 1.0 / std::sqrt(static_cast<double>(fan_in)));
  std::vector<double> taps(static_cast<std::size_t>(length));
  for (auto& tap : taps) tap = normal(rng);
  // Through the float64 FFT, so the spectrum is that of the drawn taps exactly.
  return rfft(Tensor::from_vector(taps, {length})).to(DType::f32);
}

Tensor random_signs(const Shape& shape, std::mt19937_64& rng) {
  std::vector<float> signs(static_cast<std::size_t>(numel(shape)));
  for (auto& s : signs) s = (rng() >> 63) ? 1.0f : -1.0f;
  return Tensor::from_vector(signs, shape);
}

}  // namespace laplex::fft_init
