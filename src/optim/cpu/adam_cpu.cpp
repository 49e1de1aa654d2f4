#include "core/ops/cpu/strided_loop.h"
#include "optim/adam_rule.h"

namespace laplex::optim::cpu {
namespace {

// The hyper-parameters live in locals and the arrays behind restrict
// pointers so the compiler vectorises the loop (with them read through the
// struct, every iteration reloaded them and the loop stayed scalar).
template <class T, bool Decoupled>
void adam_loop(T* __restrict p, const T* __restrict g, T* __restrict m, T* __restrict v,
               std::int64_t n, const AdamStep& s) {
  const T lr = T(s.lr), beta1 = T(s.beta1), beta2 = T(s.beta2), eps = T(s.eps);
  const T weight_decay = T(s.weight_decay), step_size = T(s.step_size);
  const T bias_correction2_sqrt = T(s.bias_correction2_sqrt);
#pragma omp parallel for simd if (n >= laplex::cpu::kParallelGrain) schedule(static)
  for (std::int64_t i = 0; i < n; ++i)
    adam_update(p[i], g[i], m[i], v[i], lr, beta1, beta2, eps, weight_decay, Decoupled,
                step_size, bias_correction2_sqrt);
}

}  // namespace

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
    if (s.decoupled)
      adam_loop<T, true>(p, g, m, v, n, s);
    else
      adam_loop<T, false>(p, g, m, v, n, s);
  });
}

}  // namespace laplex::optim::cpu
