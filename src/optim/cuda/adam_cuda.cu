#include "core/cuda/cuda_context.h"
#include "optim/adam_rule.h"

namespace laplex::optim::cuda {

namespace {
template <class T>
__global__ void adam_kernel(T* p, const T* g, T* m, T* v, std::int64_t n, AdamStep s) {
  for (std::int64_t i = blockIdx.x * (std::int64_t)blockDim.x + threadIdx.x; i < n;
       i += (std::int64_t)gridDim.x * blockDim.x)
    adam_update(p[i], g[i], m[i], v[i], T(s.lr), T(s.beta1), T(s.beta2), T(s.eps),
                T(s.weight_decay), s.decoupled, T(s.step_size), T(s.bias_correction2_sqrt));
}
}  // namespace

void adam_step(const Tensor& param, const Tensor& grad, const Tensor& exp_avg,
               const Tensor& exp_avg_sq, const AdamStep& s) {
  const std::int64_t n = param.numel();
  if (n == 0) return;
  const Tensor g = grad.to(param.dtype());
  visit_floating(param.dtype(), "adam", [&](auto tag) {
    using T = decltype(tag);
    adam_kernel<<<laplex::cuda::grid_for(n), laplex::cuda::kBlock, 0,
                  laplex::cuda::stream(param.device().index)>>>(
        param.data<T>(), g.data<T>(), exp_avg.data<T>(), exp_avg_sq.data<T>(), n, s);
  });
  laplex::cuda::check_launch("adam_kernel");
}

}  // namespace laplex::optim::cuda
