#pragma once
// Ops that change how a tensor's elements are addressed. Views share the
// input's storage (no copy); reshape copies only when the input is not
// contiguous. All are differentiable.
#include <vector>

#include "core/tensor.h"

namespace laplex {

// One dim may be -1 (inferred).
Tensor reshape(const Tensor& x, const Shape& shape);
// Like reshape but never copies: throws for a non-contiguous input.
Tensor view(const Tensor& x, const Shape& shape);
Tensor flatten(const Tensor& x, std::int64_t start_dim = 0, std::int64_t end_dim = -1);
Tensor transpose(const Tensor& x, std::int64_t dim0, std::int64_t dim1);
Tensor permute(const Tensor& x, const std::vector<std::int64_t>& dims);
// Elements [start, end) with `step` along dim (negative indices count from the end).
Tensor slice(const Tensor& x, std::int64_t dim, std::int64_t start, std::int64_t end,
             std::int64_t step = 1);
Tensor unsqueeze(const Tensor& x, std::int64_t dim);
Tensor squeeze(const Tensor& x, std::int64_t dim);
// Broadcasts size-1 dims to `shape` (stride 0, no copy).
Tensor expand(const Tensor& x, const Shape& shape);

}  // namespace laplex
