#pragma once
// Indexing along one dim, with autograd for the floating operands (never for
// the index). Index tensors are int64 or int32 on the operand's device, with
// values in [0, size of the indexed dim); negative indices are not wrapped.
//
// Out-of-range indices throw Error on the CPU. On CUDA they are not checked
// (that would cost a host synchronisation per op): the kernels skip them, so
// memory stays safe, but the affected output elements are left 0 (gather,
// index_select) or the contribution is dropped (scatter_add).
#include "core/tensor.h"

namespace laplex {

// out[p] = x[p with p[dim] replaced by index[p]] (torch.gather). index has
// x's rank, index.size(k) <= x.size(k) for k != dim; out has index's shape.
Tensor gather(const Tensor& x, std::int64_t dim, const Tensor& index);
// The slices x[..., index[i], ...] along dim, for a 1-D index.
Tensor index_select(const Tensor& x, std::int64_t dim, const Tensor& index);
// Out of place: a copy of x with src[p] added at p with p[dim] replaced by
// index[p], for every position p of index (torch.scatter_add). index has
// x's rank, index.size(k) <= src.size(k) for all k and <= x.size(k) for
// k != dim; elements of src outside index's shape are ignored. Repeated
// indices accumulate (on CUDA in an unspecified order). Floating dtypes only.
Tensor scatter_add(const Tensor& x, std::int64_t dim, const Tensor& index, const Tensor& src);

}  // namespace laplex
