#include "layers/norm/layernorm.h"

#include <string>

#include "core/error.h"
#include "core/ops/elementwise.h"
#include "core/ops/reduce.h"
#include "layers/registry.h"

namespace laplex {

LayerNorm::LayerNorm(std::int64_t features, double eps, bool affine)
    : features_(features), eps_(eps) {
  if (affine) {
    weight = Tensor::ones({features});
    bias = Tensor::zeros({features});
    register_parameter("weight", &weight);
    register_parameter("bias", &bias);
  }
}

Tensor LayerNorm::forward(const Tensor& x) {
  check(x.dim() >= 1 && x.size(x.dim() - 1) == features_,
        "layernorm: expected a last dimension of " + std::to_string(features_) + ", got " +
            shape_str(x.shape()));
  const std::vector<std::int64_t> last = {x.dim() - 1};
  const Tensor centred = sub(x, mean(x, last, true));
  const Tensor var = mean(square(centred), last, true);
  const Tensor normalised = div(centred, sqrt(add(var, eps_)));
  if (!weight.defined()) return normalised;
  return add(mul(normalised, weight), bias);
}

namespace {
const ModuleRegistration registration("layernorm", [](config::ConfigNode& node, BuildContext&) {
  const auto features = node.get<std::int64_t>("features");
  const double eps = node.get_or<double>("eps", 1e-5);
  if (features < 1) node.fail("features", "must be >= 1");
  if (!(eps > 0)) node.fail("eps", "must be > 0");
  return std::make_shared<LayerNorm>(features, eps, node.get_or<bool>("affine", true));
});
}  // namespace

}  // namespace laplex
