#pragma once
// Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2,
// 3", SC 2011): a counter-based generator. The numbers for counter c under
// key k are a pure function f(k, c), so element i of a random tensor is the
// same on the CPU and on any GPU, whatever the thread layout.
#include <cmath>
#include <cstdint>

#include "core/ops/elementwise_functors.h"  // LAPLEX_HOST_DEVICE

namespace laplex::philox {

struct Block {
  std::uint32_t v[4];
};

LAPLEX_HOST_DEVICE inline Block generate(std::uint64_t key, std::uint64_t counter) {
  std::uint32_t c0 = static_cast<std::uint32_t>(counter), c1 = static_cast<std::uint32_t>(counter >> 32);
  std::uint32_t c2 = 0, c3 = 0;
  std::uint32_t k0 = static_cast<std::uint32_t>(key), k1 = static_cast<std::uint32_t>(key >> 32);
  for (int round = 0; round < 10; ++round) {
    const std::uint64_t p0 = static_cast<std::uint64_t>(0xD2511F53u) * c0;
    const std::uint64_t p1 = static_cast<std::uint64_t>(0xCD9E8D57u) * c2;
    const std::uint32_t hi0 = static_cast<std::uint32_t>(p0 >> 32), lo0 = static_cast<std::uint32_t>(p0);
    const std::uint32_t hi1 = static_cast<std::uint32_t>(p1 >> 32), lo1 = static_cast<std::uint32_t>(p1);
    c0 = hi1 ^ c1 ^ k0;
    c1 = lo1;
    c2 = hi0 ^ c3 ^ k1;
    c3 = lo0;
    k0 += 0x9E3779B9u;
    k1 += 0xBB67AE85u;
  }
  return {{c0, c1, c2, c3}};
}

// Uniform in [0, 1) with 24 (float) or 53 (double) random bits.
template <class T>
LAPLEX_HOST_DEVICE inline T uniform(const Block& b) {
  if constexpr (sizeof(T) == 4) {
    return static_cast<T>(b.v[0] >> 8) * T(1.0 / 16777216.0);
  } else {
    const std::uint64_t bits = (static_cast<std::uint64_t>(b.v[0]) << 21) ^ (b.v[1] >> 11);
    return static_cast<T>(bits & ((1ull << 53) - 1)) * T(1.0 / 9007199254740992.0);
  }
}

// Standard normal by Box-Muller from words 2 and 3 (in double, then rounded,
// so the CPU and the GPU agree to the last bit of a float).
template <class T>
LAPLEX_HOST_DEVICE inline T normal(const Block& b) {
  const double u1 = (static_cast<double>(b.v[2]) + 1.0) * (1.0 / 4294967296.0);  // (0, 1]
  const double u2 = static_cast<double>(b.v[3]) * (1.0 / 4294967296.0);          // [0, 1)
  return static_cast<T>(std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2));
}

}  // namespace laplex::philox
