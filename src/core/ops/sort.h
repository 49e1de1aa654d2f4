#pragma once
// Sorting along one dim. Both backends sort stably: equal keys keep the order
// of their indices, ascending or descending, so CPU and GPU give the same
// permutation. -0.0 equals +0.0. NaN sorts above every number on the CPU;
// CUB orders NaNs by bit pattern (positive NaN above every number, negative
// NaN below), so lines holding NaN may differ between backends.
#include "core/tensor.h"

namespace laplex {

struct SortResult {
  Tensor values;   // x's dtype; differentiable (the gradient goes back through indices)
  Tensor indices;  // int64 positions along dim
};

// Sorts every line of x along dim (negative counts from the end). A 0-dim
// tensor sorts as one element.
SortResult sort(const Tensor& x, std::int64_t dim = -1, bool descending = false);
// The indices of sort; no gradient.
Tensor argsort(const Tensor& x, std::int64_t dim = -1, bool descending = false);

}  // namespace laplex
