#pragma once
// Runs its children in order. YAML: {type: sequential, layers: [...]};
// parameter names are <index>.<name> ("1.t" inside a model called "model").
#include "layers/module.h"

namespace laplex {

class Sequential : public Module {
 public:
  void append(std::shared_ptr<Module> layer);
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "sequential"; }
  std::size_t size() const { return children().size(); }
  Module& at(std::size_t index) const { return *children()[index].second; }
};

}  // namespace laplex
