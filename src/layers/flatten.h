#pragma once
// Flattens every dim after the batch dim: (B, C, H, W) -> (B, C*H*W).
#include "layers/module.h"

namespace laplex {

class Flatten : public Module {
 public:
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "flatten"; }
};

}  // namespace laplex
