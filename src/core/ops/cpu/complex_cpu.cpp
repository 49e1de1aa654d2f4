#include "core/ops/complex_kernels.h"
#include "core/ops/cpu/strided_loop.h"

namespace laplex::cpu {

void complex_mul(const Tensor& a, std::int64_t period_a, const Tensor& b, std::int64_t period_b,
                 const Tensor& out) {
  const std::int64_t count = out.numel() / 2;
  visit_floating(out.dtype(), "complex_mul", [&](auto tag) {
    using T = decltype(tag);
    const T* pa = a.data<T>();
    const T* pb = b.data<T>();
    T* po = out.data<T>();
#pragma omp parallel for if (count >= kParallelGrain) schedule(static)
    for (std::int64_t i = 0; i < count; ++i) {
      const T* x = pa + 2 * (i % period_a);
      const T* y = pb + 2 * (i % period_b);
      const T re = x[0] * y[0] - x[1] * y[1];
      const T im = x[0] * y[1] + x[1] * y[0];
      po[2 * i] = re;
      po[2 * i + 1] = im;
    }
  });
}

}  // namespace laplex::cpu
