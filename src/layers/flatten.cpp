#include "layers/flatten.h"

#include "core/ops/view.h"
#include "layers/registry.h"

namespace laplex {

Tensor Flatten::forward(const Tensor& x) { return x.dim() <= 2 ? x : flatten(x, 1, -1); }

namespace {
const ModuleRegistration registration("flatten", [](config::ConfigNode&, BuildContext&) {
  return std::make_shared<Flatten>();
});
}  // namespace

}  // namespace laplex
