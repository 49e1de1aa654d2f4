#include "core/ops/cpu/strided_loop.h"
#include "optim/sgd.h"
#include "optim/sgd_rule.h"

namespace laplex::optim::cpu {

void sgd_step(const Tensor& param, const Tensor& grad, const Tensor& buffer, const SgdStep& s) {
  const Tensor converted = grad.to(param.dtype());
  visit_floating(param.dtype(), "sgd", [&](auto tag) {
    using T = decltype(tag);
    T* p = param.data<T>();
    const T* g = converted.data<T>();
    T* buf = buffer.defined() ? buffer.data<T>() : nullptr;
    const std::int64_t n = param.numel();
    const T lr = T(s.lr), mu = T(s.momentum), wd = T(s.weight_decay);
#pragma omp parallel for simd if (n >= laplex::cpu::kParallelGrain) schedule(static)
    for (std::int64_t i = 0; i < n; ++i)
      sgd_update(p[i], g[i], buf ? buf + i : nullptr, lr, mu, wd, s.nesterov, s.first);
  });
}

}  // namespace laplex::optim::cpu
