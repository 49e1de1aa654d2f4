#pragma once
// Rewrites the iteration space of K strided operands with as few dims as
// possible: size-1 dims go, and a dim merges into its outer neighbour when
// every operand steps over the pair as over one dim (outer stride = inner
// stride x inner size). Elements keep their order and their offsets, so a
// strided loop over the result touches the same memory in the same order;
// it just runs fewer, longer innermost rows (a contiguous tensor becomes
// one row, a per-channel bias add over (N, C, H, W) becomes (N, C, H*W)),
// and the CUDA indexer divides once per remaining dim, not per original one.
#include <array>
#include <cstddef>
#include <cstdint>

#include "core/shape.h"

namespace laplex {

template <std::size_t K>
struct CollapsedDims {
  Shape shape;
  std::array<Strides, K> strides;
};

template <std::size_t K>
CollapsedDims<K> collapse_dims(const Shape& shape, const std::array<const Strides*, K>& strides) {
  CollapsedDims<K> out;
  // With no elements nothing is iterated, and a zero dim must survive so the
  // caller still sees numel() == 0.
  for (const std::int64_t d : shape)
    if (d == 0) {
      out.shape = shape;
      for (std::size_t k = 0; k < K; ++k) out.strides[k] = *strides[k];
      return out;
    }
  for (std::size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == 1) continue;
    if (!out.shape.empty()) {
      const std::size_t last = out.shape.size() - 1;
      bool walks_as_one = true;
      for (std::size_t k = 0; k < K && walks_as_one; ++k) {
        std::int64_t span = 0;
        walks_as_one = !__builtin_mul_overflow((*strides[k])[d], shape[d], &span) &&
                       span == out.strides[k][last];
      }
      if (walks_as_one) {
        out.shape[last] *= shape[d];
        for (std::size_t k = 0; k < K; ++k) out.strides[k][last] = (*strides[k])[d];
        continue;
      }
    }
    out.shape.push_back(shape[d]);
    for (std::size_t k = 0; k < K; ++k) out.strides[k].push_back((*strides[k])[d]);
  }
  return out;
}

}  // namespace laplex
