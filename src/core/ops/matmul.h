#pragma once
// Matrix products with autograd, on BLAS (OpenBLAS on CPU, cuBLAS on GPU).
// A 2-D operand that is a plain transpose of a contiguous matrix is passed
// to BLAS with a transpose flag instead of being copied, so backward passes
// (which multiply by transposes) cost no copies either.
#include "core/tensor.h"

namespace laplex {

// (M,K) x (K,N) -> (M,N); (B,M,K) x (B,K,N) or x (K,N) -> (B,M,N);
// (M,K) x (K,) -> (M,).
Tensor matmul(const Tensor& a, const Tensor& b);
// x W^T + b, the dense layer in torch's layout: x (B, in), weight (out, in),
// bias (out) or undefined. One GEMM forward (the bias is its initial value),
// two GEMMs and a column sum backward.
Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias);

}  // namespace laplex
