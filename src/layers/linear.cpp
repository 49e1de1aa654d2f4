#include "layers/linear.h"

#include <cmath>

#include "core/ops/matmul.h"
#include "core/random.h"
#include "layers/registry.h"

namespace laplex {

Linear::Linear(std::int64_t in, std::int64_t out, bool with_bias, std::uint64_t seed) {
  if (in < 1 || out < 1) throw UsageError("linear: in and out must be >= 1");
  Generator generator(seed);
  const double bound = 1.0 / std::sqrt(static_cast<double>(in));
  weight = Tensor::empty({out, in});
  uniform_(weight, generator, -bound, bound);
  register_parameter("weight", &weight);
  if (with_bias) {
    bias = Tensor::empty({out});
    uniform_(bias, generator, -bound, bound);
    register_parameter("bias", &bias);
  }
}

Tensor Linear::forward(const Tensor& x) { return linear(x, weight, bias); }

namespace {
const ModuleRegistration registration("linear", [](config::ConfigNode& node, BuildContext& context) {
  const auto in = node.get<std::int64_t>("in");
  const auto out = node.get<std::int64_t>("out");
  if (in < 1) node.fail("in", "must be >= 1");
  if (out < 1) node.fail("out", "must be >= 1");
  return std::make_shared<Linear>(in, out, node.get_or<bool>("bias", true),
                                  derive_seed(context.seed, context.take_stream()));
});
}  // namespace

}  // namespace laplex
