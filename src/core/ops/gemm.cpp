#include "core/ops/gemm.h"

#include <limits>
#include <string>

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
  // An empty product writes nothing; cuBLAS would refuse its leading
  // dimension of 0 (ldc = N) where the CPU returns the empty result.
  if (call.m == 0 || call.n == 0 || call.batch == 0) return;
  // cblas (Debian's OpenBLAS) and the cuBLAS calls take int sizes: a larger
  // one would wrap and leave most of `out` unwritten without a word.
  for (const std::int64_t size : {call.m, call.n, call.k, call.batch, call.a.ld, call.b.ld})
    if (size > std::numeric_limits<int>::max())
      throw Error("matmul: a size or leading dimension of " + std::to_string(size) +
                  " exceeds the BLAS libraries' 32-bit sizes (at most " +
                  std::to_string(std::numeric_limits<int>::max()) + ")");
  if (use_cuda(out)) {
#if LAPLEX_WITH_CUDA
    cuda::gemm(call, out);
#endif
  } else {
    cpu::gemm(call, out);
  }
}

}  // namespace laplex
