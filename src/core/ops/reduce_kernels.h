#pragma once
// Backend entry points of the reductions. Every reduction is brought to one
// form first: a contiguous input viewed as (outer, R, inner), reduced over R
// into a contiguous (outer, inner) output.
#include <cstdint>

#include "core/tensor.h"

namespace laplex {

enum class ReduceOp { sum, max };

struct ReduceGeometry {
  std::int64_t outer = 1, reduced = 1, inner = 1;
};

namespace cpu {
// For ReduceOp::max, `index` (int64, same size as out) receives the position
// of the first maximum along R; it may be undefined for sum.
void reduce(ReduceOp op, const Tensor& x, const ReduceGeometry& g, const Tensor& out,
            const Tensor& index);
// Cumulative sum along R of a contiguous (outer, R, inner) tensor.
void cumsum(const Tensor& x, const ReduceGeometry& g, const Tensor& out, bool reverse);
}  // namespace cpu

namespace cuda {
void reduce(ReduceOp op, const Tensor& x, const ReduceGeometry& g, const Tensor& out,
            const Tensor& index);
void cumsum(const Tensor& x, const ReduceGeometry& g, const Tensor& out, bool reverse);
}  // namespace cuda

}  // namespace laplex
