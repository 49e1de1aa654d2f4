#pragma once
// Backend entry points of gather and scatter_add (no autograd, no argument
// checks beyond the index range on the CPU). Both iterate over the positions
// of `index`; the operands may be any strided view except `out`, which is a
// fresh contiguous tensor.
#include <cstdint>

#include "core/tensor.h"

namespace laplex {

namespace cpu {
// Throws Error naming `op` unless every value of index lies in [0, size).
void check_index_range(const Tensor& index, std::int64_t size, const char* op);
// out (index's shape) = x gathered along dim.
void gather(const Tensor& x, std::int64_t dim, const Tensor& index, const Tensor& out);
// out (x's shape, already holding x) += src scattered along dim.
void scatter_add(const Tensor& out, std::int64_t dim, const Tensor& index, const Tensor& src);
}  // namespace cpu

namespace cuda {
void gather(const Tensor& x, std::int64_t dim, const Tensor& index, const Tensor& out);
void scatter_add(const Tensor& out, std::int64_t dim, const Tensor& index, const Tensor& src);
}  // namespace cuda

}  // namespace laplex
