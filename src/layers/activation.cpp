#include "layers/activation.h"

#include "core/ops/elementwise.h"
#include "layers/registry.h"

namespace laplex {

namespace {

ModuleBuilder builder_for(const std::string& name, Activation::Function function) {
  return [name, function](config::ConfigNode&, BuildContext&) {
    return std::make_shared<Activation>(name, function);
  };
}

Tensor relu_fn(const Tensor& x) { return relu(x); }
Tensor gelu_fn(const Tensor& x) { return gelu(x); }
Tensor tanh_fn(const Tensor& x) { return tanh(x); }
Tensor sigmoid_fn(const Tensor& x) { return sigmoid(x); }

const ModuleRegistration relu_registration("relu", builder_for("relu", relu_fn));
const ModuleRegistration gelu_registration("gelu", builder_for("gelu", gelu_fn));
const ModuleRegistration tanh_registration("tanh", builder_for("tanh", tanh_fn));
const ModuleRegistration sigmoid_registration("sigmoid", builder_for("sigmoid", sigmoid_fn));

}  // namespace

}  // namespace laplex
