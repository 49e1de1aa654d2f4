#include "layers/lowrank.h"

#include <cmath>

#include "core/ops/matmul.h"
#include "core/ops/view.h"
#include "core/random.h"
#include "layers/registry.h"

namespace laplex {

LowRank::LowRank(std::int64_t in, std::int64_t out, std::int64_t rank, bool with_bias,
                 std::uint64_t seed) {
  if (in < 1 || out < 1 || rank < 1) throw UsageError("lowrank: in, out and rank must be >= 1");
  Generator generator(seed);
  // var(W) = rank * s^4 = 1 / (3 in)  =>  s = (3 in rank)^(-1/4)
  const double s = std::pow(3.0 * static_cast<double>(in) * static_cast<double>(rank), -0.25);
  u = Tensor::empty({out, rank});
  v = Tensor::empty({in, rank});
  normal_(u, generator, 0.0, s);
  normal_(v, generator, 0.0, s);
  register_parameter("u", &u);
  register_parameter("v", &v);
  if (with_bias) {
    const double bound = 1.0 / std::sqrt(static_cast<double>(in));
    bias = Tensor::empty({out});
    uniform_(bias, generator, -bound, bound);
    register_parameter("bias", &bias);
  }
}

Tensor LowRank::forward(const Tensor& x) {
  // (x V) U^T: two thin GEMMs, never the (out, in) matrix.
  return linear(matmul(x, v), u, bias);
}

namespace {
const ModuleRegistration registration("lowrank", [](config::ConfigNode& node, BuildContext& context) {
  const auto in = node.get<std::int64_t>("in");
  const auto out = node.get<std::int64_t>("out");
  const auto rank = node.get<std::int64_t>("rank");
  if (in < 1) node.fail("in", "must be >= 1");
  if (out < 1) node.fail("out", "must be >= 1");
  if (rank < 1) node.fail("rank", "must be >= 1");
  return std::make_shared<LowRank>(in, out, rank, node.get_or<bool>("bias", true),
                                   derive_seed(context.seed, context.take_stream()));
});
}  // namespace

}  // namespace laplex
