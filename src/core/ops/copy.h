#pragma once
// Raw data movement between tensors, without autograd: used by Tensor's
// to()/contiguous()/copy_()/fill_() and by ops that need a dense layout.
#include "core/tensor.h"

namespace laplex {

// dst[...] = src[...] converted to dst's dtype; same shape (src may
// broadcast), same device.
void copy_into(const Tensor& src, const Tensor& dst);
// Every element of dst = value.
void fill_tensor(const Tensor& dst, double value);

namespace cpu {
void copy_into(const Tensor& src, const Tensor& dst);
void fill_tensor(const Tensor& dst, double value);
}  // namespace cpu
namespace cuda {
void copy_into(const Tensor& src, const Tensor& dst);
void fill_tensor(const Tensor& dst, double value);
}  // namespace cuda

}  // namespace laplex
