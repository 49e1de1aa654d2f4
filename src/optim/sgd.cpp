#include "optim/sgd.h"

#include "core/ops/dispatch.h"

namespace laplex::optim {

Sgd::Sgd(std::vector<ParamGroup> groups, SgdOptions options)
    : Optimizer(std::move(groups)), options_(options) {
  if (options.momentum < 0) throw UsageError("sgd: momentum must be >= 0");
  if (options.nesterov && options.momentum <= 0)
    throw UsageError("sgd: nesterov needs momentum > 0");
}

void Sgd::update(std::size_t index, const Tensor& param, const Tensor& grad,
                 const ParamGroup& group, double lr) {
  Tensor buffer;
  bool first = false;
  if (options_.momentum > 0) {
    first = !has_slot(index, 0);
    if (first) slot(index, 0) = Tensor::empty_like(param);
    buffer = slot(index, 0);
  }
  const SgdStep s{lr, options_.momentum, group.weight_decay, options_.nesterov, first};
  if (use_cuda(param)) {
#if LAPLEX_WITH_CUDA
    cuda::sgd_step(param, grad, buffer, s);
#endif
  } else {
    cpu::sgd_step(param, grad, buffer, s);
  }
}

}  // namespace laplex::optim
