#pragma once
// Dense layer y = x W^T + b (YAML: {type: linear, in, out, bias: true}).
// Initialised like torch.nn.Linear: W and b uniform in +-1/sqrt(in).
#include "layers/module.h"

namespace laplex {

class Linear : public Module {
 public:
  Linear(std::int64_t in, std::int64_t out, bool bias, std::uint64_t seed);
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "linear"; }

  Tensor weight;  // (out, in)
  Tensor bias;    // (out) or undefined
};

}  // namespace laplex
