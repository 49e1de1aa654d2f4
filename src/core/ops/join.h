#pragma once
// Joining tensors along a dim, with autograd. All inputs must share dtype and
// device and agree in every dim except the joined one.
#include <vector>

#include "core/tensor.h"

namespace laplex {

// Joins along an existing dim (negative counts from the end). Inputs may be
// empty along `dim`.
Tensor concat(const std::vector<Tensor>& tensors, std::int64_t dim);
// Joins along a new dim inserted at `dim` (in [-rank-1, rank]); all inputs
// must have the same shape.
Tensor stack(const std::vector<Tensor>& tensors, std::int64_t dim);

}  // namespace laplex
