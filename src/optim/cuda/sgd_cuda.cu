#include "core/cuda/cuda_context.h"
#include "optim/sgd.h"
#include "optim/sgd_rule.h"

namespace laplex::optim::cuda {

namespace {
template <class T>
__global__ void sgd_kernel(T* p, const T* g, T* buf, std::int64_t n, T lr, T mu, T wd,
                           bool nesterov, bool first) {
  for (std::int64_t i = blockIdx.x * (std::int64_t)blockDim.x + threadIdx.x; i < n;
       i += (std::int64_t)gridDim.x * blockDim.x)
    sgd_update(p[i], g[i], buf ? buf + i : nullptr, lr, mu, wd, nesterov, first);
}
}  // namespace

void sgd_step(const Tensor& param, const Tensor& grad, const Tensor& buffer, const SgdStep& s) {
  const std::int64_t n = param.numel();
  if (n == 0) return;
  const Tensor g = grad.to(param.dtype());
  visit_floating(param.dtype(), "sgd", [&](auto tag) {
    using T = decltype(tag);
    sgd_kernel<<<laplex::cuda::grid_for(n), laplex::cuda::kBlock, 0,
                 laplex::cuda::stream(param.device().index)>>>(
        param.data<T>(), g.data<T>(), buffer.defined() ? buffer.data<T>() : nullptr, n, T(s.lr),
        T(s.momentum), T(s.weight_decay), s.nesterov, s.first);
  });
  laplex::cuda::check_launch("sgd_kernel");
}

}  // namespace laplex::optim::cuda
