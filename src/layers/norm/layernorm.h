#pragma once
// layernorm: PyTorch's LayerNorm over the last dimension (`features`):
// (x - mean) / sqrt(biased var + eps), then weight (ones) and bias (zeros)
// when affine. The same in training and evaluation.
#include "layers/module.h"

namespace laplex {

class LayerNorm : public Module {
 public:
  LayerNorm(std::int64_t features, double eps, bool affine);
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "layernorm"; }

  Tensor weight, bias;

 private:
  std::int64_t features_;
  double eps_;
};

}  // namespace laplex
