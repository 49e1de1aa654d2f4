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
  double momentum = 0.0;
  bool nesterov = false;
};

class Sgd : public Optimizer {
 public:
  Sgd(std::vector<ParamGroup> groups, SgdOptions options);

 protected:
  void update(std::size_t index, const Tensor& param, const Tensor& grad, const ParamGroup& group,
              double lr) override;
  std::vector<std::string> slot_names() const override { return {"momentum_buffer"}; }

 private:
  SgdOptions options_;
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
