#include "core/ops/gemm.h"

#include "core/ops/dispatch.h"

namespace laplex {

GemmOperand gemm_operand(const Tensor& matrix) {
  const auto& st = matrix.strides();
  const auto& sh = matrix.shape();
  const std::int64_t rank = matrix.dim();
  const std::int64_t rows = sh[rank - 2], cols = sh[rank - 1];
  const std::int64_t s0 = st[rank - 2], s1 = st[rank - 1];
  if ((s1 == 1 || cols == 1) && s0 >= std::max<std::int64_t>(cols, 1))
    return {matrix, false, std::max<std::int64_t>(s0, 1)};
  if ((s0 == 1 || rows == 1) && s1 >= std::max<std::int64_t>(rows, 1))
    return {matrix, true, std::max<std::int64_t>(s1, 1)};
  const Tensor copy = matrix.contiguous();
  return {copy, false, std::max<std::int64_t>(cols, 1)};
}

void run_gemm(const GemmCall& call, const Tensor& out) {
  if (use_cuda(out)) {
#if LAPLEX_WITH_CUDA
    cuda::gemm(call, out);
#endif
  } else {
    cpu::gemm(call, out);
  }
}

}  // namespace laplex
