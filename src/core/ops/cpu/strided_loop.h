#pragma once
// Iterates over every index of a shape for K operands that each have their
// own strides (in elements; 0 for broadcast dims). The innermost dim runs as
// a plain loop with per-operand steps so the compiler can vectorise the
// contiguous case; outer indices are split among OpenMP threads when the
// work is large enough to pay for them.
#include <omp.h>

#include <array>
#include <cstdint>

#include "core/shape.h"

namespace laplex::cpu {

// Below this many elements a parallel region costs more than it saves.
constexpr std::int64_t kParallelGrain = 1 << 15;

// fn(std::array<int64_t, K> offsets, int64_t inner_count, std::array<int64_t,K> inner_steps)
// is called once per innermost row.
template <std::size_t K, class RowFn>
void for_each_row(const Shape& shape, const std::array<const Strides*, K>& strides, RowFn fn) {
  const std::int64_t rank = static_cast<std::int64_t>(shape.size());
  std::array<std::int64_t, K> steps{};
  std::int64_t inner = 1;
  if (rank > 0) {
    inner = shape[rank - 1];
    for (std::size_t k = 0; k < K; ++k) steps[k] = (*strides[k])[rank - 1];
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
      for (std::size_t k = 0; k < K; ++k) offsets[k] += i * (*strides[k])[d];
    }
    return offsets;
  };
  if (total >= kParallelGrain && rows > 1) {
#pragma omp parallel for schedule(static)
    for (std::int64_t row = 0; row < rows; ++row) fn(row_offsets(row), inner, steps);
  } else {
    for (std::int64_t row = 0; row < rows; ++row) fn(row_offsets(row), inner, steps);
  }
}

}  // namespace laplex::cpu
