#pragma once
// Stochastic gradient descent with momentum, Nesterov momentum and (coupled)
// weight decay, with PyTorch's conventions (torch.optim.SGD, dampening 0):
//   g = grad + weight_decay * p
//   buf = g on the first step, then momentum * buf + g
//   update = nesterov ? g + momentum * buf : buf      (buf = g without momentum)
//   p -= lr * update
// One fused pass per parameter on CPU and on CUDA.
#include "optim/optimizer.h"

namespace laplex::optim {

struct SgdOptions {
  double lr = 0.01;
  double momentum = 0.0;
  double weight_decay = 0.0;
  bool nesterov = false;
};

class Sgd : public Optimizer {
 public:
  Sgd(std::vector<Tensor> params, SgdOptions options);
  void step() override;
  // Momentum buffers, one per parameter (undefined before the first step).
  const std::vector<Tensor>& momentum_buffers() const { return buffers_; }
  std::vector<Tensor>& momentum_buffers() { return buffers_; }

 private:
  SgdOptions options_;
  std::vector<Tensor> buffers_;
};

struct SgdStep {
  double lr, momentum, weight_decay;
  bool nesterov;
  bool first;  // the buffer is initialised to g instead of updated
};

namespace cpu {
void sgd_step(const Tensor& param, const Tensor& grad, const Tensor& buffer, const SgdStep& s);
}
namespace cuda {
void sgd_step(const Tensor& param, const Tensor& grad, const Tensor& buffer, const SgdStep& s);
}

}  // namespace laplex::optim
