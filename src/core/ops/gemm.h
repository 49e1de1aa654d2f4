#pragma once
// C = alpha * op(A) op(B) + beta * C on row-major 2-D views, the one GEMM
// entry point of both backends. A view is usable as-is when it is
// row-major with a leading dimension (strides (ld, 1)) or a transpose of
// one (strides (1, ld)); gemm_operand() says which, copying otherwise.
#include "core/tensor.h"

namespace laplex {

struct GemmOperand {
  Tensor tensor;     // the view itself, or a contiguous copy
  bool transposed;   // stored as the transpose of a row-major matrix
  std::int64_t ld;   // leading dimension of that row-major storage
};

GemmOperand gemm_operand(const Tensor& matrix);

// out must be a contiguous (M, N) tensor; a is (M, K), b is (K, N).
// batch > 1: a, b, out are (batch, ...) with the given element strides
// between matrices (0 for an operand shared by every batch entry).
struct GemmCall {
  GemmOperand a, b;
  std::int64_t m, n, k;
  double alpha = 1.0, beta = 0.0;
  std::int64_t batch = 1;
  std::int64_t stride_a = 0, stride_b = 0, stride_out = 0;
};

namespace cpu {
void gemm(const GemmCall& call, const Tensor& out);
}
namespace cuda {
void gemm(const GemmCall& call, const Tensor& out);
}

// Dispatches on out's device.
void run_gemm(const GemmCall& call, const Tensor& out);

}  // namespace laplex
