#pragma once
// Backend entry points of gather and scatter_add (no autograd, no argument
// checks beyond the index range on the CPU). Both iterate over the positions
// of `index`; the operands may be any strided view except `out`, which is a
// fresh contiguous tensor.
#include <cstdint>
#include <string>

#include "core/tensor.h"

namespace laplex {

// Calls fn with a value of the index dtype (int64 or int32), else throws.
template <class Fn>
void visit_index(DType dtype, const char* op, Fn&& fn) {
  if (dtype == DType::i64) return fn(std::int64_t{});
  if (dtype == DType::i32) return fn(std::int32_t{});
  throw Error(std::string(op) + ": index must be int64 or int32, got " + dtype_name(dtype));
}

// The strides of `strides` with the one along dim zeroed: the kernels add
// index * stride for that dim themselves.
inline Strides without_dim(Strides strides, std::int64_t dim) {
  strides[dim] = 0;
  return strides;
}

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
