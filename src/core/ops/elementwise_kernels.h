#pragma once
// Backend entry points of the elementwise ops (no autograd). `out` is a
// fresh tensor of the broadcast shape; inputs may be any strided view.
#include "core/ops/elementwise_functors.h"
#include "core/tensor.h"

namespace laplex {

namespace cpu {
void unary(elementwise::Unary op, const Tensor& x, const Tensor& out, double p0, double p1);
void binary(elementwise::Binary op, const Tensor& a, const Tensor& b, const Tensor& out);
void where(const Tensor& cond, const Tensor& a, const Tensor& b, const Tensor& out);
}  // namespace cpu

namespace cuda {
void unary(elementwise::Unary op, const Tensor& x, const Tensor& out, double p0, double p1);
void binary(elementwise::Binary op, const Tensor& a, const Tensor& b, const Tensor& out);
void where(const Tensor& cond, const Tensor& a, const Tensor& b, const Tensor& out);
}  // namespace cuda

}  // namespace laplex
