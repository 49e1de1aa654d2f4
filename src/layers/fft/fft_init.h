#pragma once
// Initial values shared by the FFT layers, drawn on the host from the build
// seed and the module's own stream (see BuildContext) and then copied, so a
// seed gives the same parameters whatever the device.
#include <cstdint>
#include <random>

#include "core/tensor.h"

namespace laplex::fft_init {

// The generator for one module: std::mt19937_64 seeded from (seed, stream).
std::mt19937_64 generator(std::uint64_t seed, std::uint64_t stream);

// Half spectrum (length/2 + 1, 2), float32, of a real filter of `length` taps
// drawn i.i.d. N(0, 1 / fan_in). A circulant with these taps applied to a
// signal with `fan_in` non-zero entries of variance v gives outputs of
// expected variance v: each output sums fan_in products tap * input.
Tensor random_filter_spectrum(std::int64_t length, std::int64_t fan_in, std::mt19937_64& rng);
// A tensor of `shape` filled with +1 or -1 with equal probability, float32: a diagonal
// that keeps the variance and breaks the circulant's shift structure.
Tensor random_signs(const Shape& shape, std::mt19937_64& rng);

}  // namespace laplex::fft_init
