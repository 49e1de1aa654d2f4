#include "layers/dropout.h"

#include "core/error.h"
#include "core/ops/elementwise.h"
#include "core/random.h"
#include "layers/registry.h"

namespace laplex {

Dropout::Dropout(double p, std::uint64_t seed) : p_(p), seed_(seed) {
  if (!(p >= 0 && p < 1)) throw UsageError("dropout: p must be in [0, 1)");
  draws = Tensor::zeros({1}, DType::i64);
  register_buffer("draws", &draws);
}

void Dropout::on_state_loaded() {
  const double value = draws.to(Device::cpu()).item();
  if (!(value >= 0)) throw UsageError("state dict: dropout draws must be >= 0");
  draws_ = static_cast<std::uint64_t>(value);
}

Tensor Dropout::forward(const Tensor& x) {
  if (!is_training() || p_ == 0) return x;
  Generator generator(derive_seed(seed_, draws_++));
  draws.fill_(static_cast<double>(draws_));  // no host sync on a GPU: a one-value fill
  const Tensor keep = lt(rand(x.shape(), generator, x.dtype(), x.device()), 1.0 - p_);
  return mul(x, mul(keep, 1.0 / (1.0 - p_)));
}

namespace {
const ModuleRegistration registration("dropout", [](config::ConfigNode& node, BuildContext& context) {
  const double p = node.get<double>("p");
  if (!(p >= 0 && p < 1)) node.fail("p", "must be in [0, 1)");
  return std::make_shared<Dropout>(p, derive_seed(context.seed, context.take_stream()));
});
}  // namespace

}  // namespace laplex
