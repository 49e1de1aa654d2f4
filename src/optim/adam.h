#pragma once
// Adam and AdamW with PyTorch's conventions (torch.optim.Adam / AdamW):
//   Adam:  g = grad + weight_decay * p          (L2, coupled)
//   AdamW: p = p * (1 - lr * weight_decay)      (decoupled), g = grad
//   m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2
//   p -= (lr / (1 - b1^t)) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
// One fused pass per parameter on CPU and on CUDA.
#include "optim/optimizer.h"

namespace laplex::optim {

struct AdamOptions {
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  bool decoupled = false;  // true: AdamW
};

class Adam : public Optimizer {
 public:
  Adam(std::vector<ParamGroup> groups, AdamOptions options);

 protected:
  void update(std::size_t index, const Tensor& param, const Tensor& grad, const ParamGroup& group,
              double lr) override;
  std::vector<std::string> slot_names() const override { return {"exp_avg", "exp_avg_sq"}; }
  bool slot_is_nonnegative(std::size_t slot) const override { return slot == 1; }

 private:
  AdamOptions options_;
};

// Scalars of one fused step, precomputed on the host.
struct AdamStep {
  double lr, beta1, beta2, eps, weight_decay;
  bool decoupled;
  double step_size;               // lr / (1 - beta1^t)
  double bias_correction2_sqrt;   // sqrt(1 - beta2^t)
};

namespace cpu {
void adam_step(const Tensor& param, const Tensor& grad, const Tensor& exp_avg,
               const Tensor& exp_avg_sq, const AdamStep& s);
}
namespace cuda {
void adam_step(const Tensor& param, const Tensor& grad, const Tensor& exp_avg,
               const Tensor& exp_avg_sq, const AdamStep& s);
}

}  // namespace laplex::optim
