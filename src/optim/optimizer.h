#pragma once
// The optimizer interface: holds the parameters it updates and, per
// parameter, whatever state its rule needs (momentum buffers, moments).
#include <vector>

#include "core/tensor.h"

namespace laplex::optim {

class Optimizer {
 public:
  explicit Optimizer(std::vector<Tensor> params) : params_(std::move(params)) {}
  virtual ~Optimizer() = default;

  // Applies one update from the parameters' current .grad() (parameters
  // without a gradient are left alone).
  virtual void step() = 0;
  void zero_grad() {
    for (Tensor& p : params_) p.zero_grad();
  }
  const std::vector<Tensor>& params() const { return params_; }
  double lr() const { return lr_; }
  void set_lr(double lr) { lr_ = lr; }

 protected:
  std::vector<Tensor> params_;
  double lr_ = 0.0;
};

}  // namespace laplex::optim
