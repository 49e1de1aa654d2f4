#pragma once
// Parameter-free elementwise layers: relu, gelu, tanh, sigmoid.
#include "layers/module.h"

namespace laplex {

class Activation : public Module {
 public:
  using Function = Tensor (*)(const Tensor&);
  Activation(std::string name, Function function)
      : name_(std::move(name)), function_(function) {}
  Tensor forward(const Tensor& x) override { return function_(x); }
  std::string type_name() const override { return name_; }

 private:
  std::string name_;
  Function function_;
};

}  // namespace laplex
