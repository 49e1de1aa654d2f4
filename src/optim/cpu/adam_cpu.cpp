#include "core/ops/cpu/strided_loop.h"
#include "optim/adam_rule.h"

namespace laplex::optim::cpu {

void adam_step(const Tensor& param, const Tensor& grad, const Tensor& exp_avg,
               const Tensor& exp_avg_sq, const AdamStep& s) {
  const Tensor converted = grad.to(param.dtype());
  visit_floating(param.dtype(), "adam", [&](auto tag) {
    using T = decltype(tag);
    T* p = param.data<T>();
    const T* g = converted.data<T>();
    T* m = exp_avg.data<T>();
    T* v = exp_avg_sq.data<T>();
    const std::int64_t n = param.numel();
#pragma omp parallel for simd if (n >= laplex::cpu::kParallelGrain) schedule(static)
    for (std::int64_t i = 0; i < n; ++i)
      adam_update(p[i], g[i], m[i], v[i], T(s.lr), T(s.beta1), T(s.beta2), T(s.eps),
                  T(s.weight_decay), s.decoupled, T(s.step_size), T(s.bias_correction2_sqrt));
  });
}

}  // namespace laplex::optim::cpu
