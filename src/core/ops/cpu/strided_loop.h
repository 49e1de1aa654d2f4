#pragma once
// Iterates over every index of a shape for K operands that each have their
// own strides (in elements; 0 for broadcast dims). The innermost dim runs as
// a plain loop with per-operand steps so the compiler can vectorise the
// contiguous case; outer indices are split among OpenMP threads when the
// work is large enough to pay for them. Dims the operands walk as one are
// merged first (collapse_dims), so a row is as long as the layout allows:
// a contiguous (N, C, 28, 28) tensor is one row, not N*C*28 rows of 28.
#include <omp.h>

#include <algorithm>
#include <array>
#include <cstdint>

#include "core/collapse_dims.h"
#include "core/shape.h"

namespace laplex::cpu {

// Below this many elements a parallel region costs more than it saves.
constexpr std::int64_t kParallelGrain = 1 << 15;

// Whether a row may be cut into pieces that run on different threads. A
// caller whose rows must stay whole (scatter_add along the last dim, where
// every element of a row adds into the same outputs) says so.
enum class RowSplit { allowed, whole_rows };

// fn(std::array<int64_t, K> offsets, int64_t inner_count, std::array<int64_t,K> inner_steps)
// is called once per innermost row, or per piece of one (RowSplit::allowed).
template <std::size_t K, class RowFn>
void for_each_row(const Shape& original_shape,
                  const std::array<const Strides*, K>& original_strides, RowFn fn,
                  RowSplit split = RowSplit::allowed) {
  const CollapsedDims<K> collapsed = collapse_dims(original_shape, original_strides);
  const Shape& shape = collapsed.shape;
  const std::int64_t rank = static_cast<std::int64_t>(shape.size());
  std::array<std::int64_t, K> steps{};
  std::int64_t inner = 1;
  if (rank > 0) {
    inner = shape[rank - 1];
    for (std::size_t k = 0; k < K; ++k) steps[k] = collapsed.strides[k][rank - 1];
  }
  const std::int64_t total = numel(shape);
  if (total == 0) return;
  const std::int64_t rows = total / inner;
  auto row_offsets = [&](std::int64_t row) {
    std::array<std::int64_t, K> offsets{};
    std::int64_t rest = row;
    for (std::int64_t d = rank - 2; d >= 0; --d) {
      const std::int64_t i = rest % shape[d];
      rest /= shape[d];
      for (std::size_t k = 0; k < K; ++k) offsets[k] += i * collapsed.strides[k][d];
    }
    return offsets;
  };
  if (total < kParallelGrain) {
    for (std::int64_t row = 0; row < rows; ++row) fn(row_offsets(row), inner, steps);
    return;
  }
  // Collapsing leaves few, long rows (one for a contiguous tensor), so rows
  // alone would not feed the threads: each is cut into equal pieces until
  // there are about four tasks per thread.
  const std::int64_t wanted_tasks = 4 * static_cast<std::int64_t>(omp_get_max_threads());
  std::int64_t pieces = 1;
  if (split == RowSplit::allowed && rows < wanted_tasks)
    pieces = std::min(inner, (wanted_tasks + rows - 1) / rows);
  if (pieces == 1) {
#pragma omp parallel for schedule(static) if (rows > 1)
    for (std::int64_t row = 0; row < rows; ++row) fn(row_offsets(row), inner, steps);
    return;
  }
  const std::int64_t piece = (inner + pieces - 1) / pieces;
  const std::int64_t tasks = rows * pieces;
#pragma omp parallel for schedule(static) if (tasks > 1)
  for (std::int64_t task = 0; task < tasks; ++task) {
    const std::int64_t row = task / pieces;
    const std::int64_t first = (task % pieces) * piece;
    const std::int64_t count = std::min(piece, inner - first);
    if (count <= 0) continue;
    std::array<std::int64_t, K> offsets = row_offsets(row);
    for (std::size_t k = 0; k < K; ++k) offsets[k] += first * steps[k];
    fn(offsets, count, steps);
  }
}

}  // namespace laplex::cpu
