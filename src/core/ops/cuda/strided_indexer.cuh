#pragma once
// Maps a linear element index to per-operand offsets for K strided operands,
// so one elementwise kernel serves contiguous, transposed and broadcast
// views. Passed to kernels by value (it lives in the parameter space).
#include <array>
#include <cstdint>
#include <string>

#include "core/collapse_dims.h"
#include "core/error.h"
#include "core/shape.h"

namespace laplex::cuda {

constexpr int kMaxRank = 8;

template <int K>
struct StridedIndexer {
  int rank = 0;
  std::int64_t shape[kMaxRank] = {};
  std::int64_t strides[K][kMaxRank] = {};

  __host__ __device__ void offsets(std::int64_t linear, std::int64_t (&out)[K]) const {
    for (int k = 0; k < K; ++k) out[k] = 0;
    if (rank == 0) return;
    for (int d = rank - 1; d > 0; --d) {
      const std::int64_t i = linear % shape[d];
      linear /= shape[d];
      for (int k = 0; k < K; ++k) out[k] += i * strides[k][d];
    }
    // What is left is the outermost index itself (linear < numel), so the
    // last 64-bit division, a long instruction sequence on a GPU, is skipped.
    for (int k = 0; k < K; ++k) out[k] += linear * strides[k][0];
  }
};

// Dims every operand walks as one are merged first (collapse_dims): fewer
// divisions per element, and a tensor of any rank fits as long as its
// layout needs at most kMaxRank dims (a contiguous one needs one).
template <int K>
StridedIndexer<K> make_indexer(const Shape& shape, const std::array<const Strides*, K>& strides) {
  const CollapsedDims<K> collapsed = collapse_dims<K>(shape, strides);
  if (collapsed.shape.size() > kMaxRank)
    throw Error("CUDA kernels support views of at most " + std::to_string(kMaxRank) +
                " non-mergeable dims; shape " + shape_str(shape) + " needs " +
                std::to_string(collapsed.shape.size()) + " (make it contiguous first)");
  StridedIndexer<K> ix;
  ix.rank = static_cast<int>(collapsed.shape.size());
  for (int d = 0; d < ix.rank; ++d) {
    ix.shape[d] = collapsed.shape[d];
    for (int k = 0; k < K; ++k) ix.strides[k][d] = collapsed.strides[k][d];
  }
  return ix;
}

}  // namespace laplex::cuda
