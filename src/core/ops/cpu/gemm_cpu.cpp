#include <cblas.h>

#include "core/ops/gemm.h"

namespace laplex::cpu {

void gemm(const GemmCall& c, const Tensor& out) {
  const auto ta = c.a.transposed ? CblasTrans : CblasNoTrans;
  const auto tb = c.b.transposed ? CblasTrans : CblasNoTrans;
  const std::int64_t ldc = c.n;
  visit_floating(out.dtype(), "matmul", [&](auto tag) {
    using T = decltype(tag);
    const T* a = c.a.tensor.data<T>();
    const T* b = c.b.tensor.data<T>();
    T* o = out.data<T>();
    for (std::int64_t i = 0; i < c.batch; ++i) {
      if constexpr (std::is_same_v<T, float>) {
        cblas_sgemm(CblasRowMajor, ta, tb, c.m, c.n, c.k, static_cast<float>(c.alpha),
                    a + i * c.stride_a, c.a.ld, b + i * c.stride_b, c.b.ld,
                    static_cast<float>(c.beta), o + i * c.stride_out, ldc);
      } else {
        cblas_dgemm(CblasRowMajor, ta, tb, c.m, c.n, c.k, c.alpha, a + i * c.stride_a, c.a.ld,
                    b + i * c.stride_b, c.b.ld, c.beta, o + i * c.stride_out, ldc);
      }
    }
  });
}

}  // namespace laplex::cpu
