#include "layers/sequential.h"

#include "layers/registry.h"

namespace laplex {

void Sequential::append(std::shared_ptr<Module> layer) {
  register_module(std::to_string(children().size()), std::move(layer));
}

Tensor Sequential::forward(const Tensor& x) {
  Tensor h = x;
  for (auto& [name, child] : children()) h = child->forward(h);
  return h;
}

namespace {
const ModuleRegistration registration(
    "sequential", [](config::ConfigNode& node, BuildContext& context) {
      auto model = std::make_shared<Sequential>();
      for (auto& layer : node.children("layers")) model->append(build_module(layer, context));
      return model;
    });
}  // namespace

}  // namespace laplex
