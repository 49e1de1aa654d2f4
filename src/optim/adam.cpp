#include "optim/adam.h"

#include <cmath>

#include "core/ops/dispatch.h"

namespace laplex::optim {

Adam::Adam(std::vector<ParamGroup> groups, AdamOptions options)
    : Optimizer(std::move(groups)), options_(options) {
  if (!(options.beta1 >= 0 && options.beta1 < 1) || !(options.beta2 >= 0 && options.beta2 < 1))
    throw UsageError("adam: betas must be in [0, 1)");
  if (!(options.eps > 0)) throw UsageError("adam: eps must be > 0");
}

void Adam::update(std::size_t index, const Tensor& param, const Tensor& grad,
                  const ParamGroup& group, double lr) {
  if (!has_slot(index, 0)) {
    slot(index, 0) = Tensor::zeros_like(param);
    slot(index, 1) = Tensor::zeros_like(param);
  }
  const double t = static_cast<double>(step_count(index));
  const AdamStep s{lr,
                   options_.beta1,
                   options_.beta2,
                   options_.eps,
                   group.weight_decay,
                   options_.decoupled,
                   lr / (1.0 - std::pow(options_.beta1, t)),
                   std::sqrt(1.0 - std::pow(options_.beta2, t))};
  if (use_cuda(param)) {
#if LAPLEX_WITH_CUDA
    cuda::adam_step(param, grad, slot(index, 0), slot(index, 1), s);
#endif
  } else {
    cpu::adam_step(param, grad, slot(index, 0), slot(index, 1), s);
  }
}

}  // namespace laplex::optim
