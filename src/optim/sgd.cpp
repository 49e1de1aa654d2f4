#include "optim/sgd.h"

#include "core/ops/dispatch.h"

namespace laplex::optim {

Sgd::Sgd(std::vector<Tensor> params, SgdOptions options)
    : Optimizer(std::move(params)), options_(options), buffers_(params_.size()) {
  if (options.lr < 0) throw Error("sgd: lr must be >= 0");
  if (options.momentum < 0) throw Error("sgd: momentum must be >= 0");
  if (options.nesterov && options.momentum <= 0) throw Error("sgd: nesterov needs momentum > 0");
  for (const Tensor& p : params_)
    if (!p.is_contiguous()) throw Error("sgd: parameters must be contiguous");
  lr_ = options.lr;
}

void Sgd::step() {
  for (std::size_t k = 0; k < params_.size(); ++k) {
    const Tensor& p = params_[k];
    Tensor grad = p.grad();
    if (!grad.defined()) continue;
    grad = grad.contiguous();
    const bool first = options_.momentum > 0 && !buffers_[k].defined();
    if (options_.momentum > 0 && first) buffers_[k] = Tensor::empty_like(p);
    const SgdStep s{lr_, options_.momentum, options_.weight_decay, options_.nesterov, first};
    if (use_cuda(p)) {
#if LAPLEX_WITH_CUDA
      cuda::sgd_step(p, grad, buffers_[k], s);
#endif
    } else {
      cpu::sgd_step(p, grad, buffers_[k], s);
    }
  }
}

}  // namespace laplex::optim
