#include "layers/dropout.h"

#include <string>

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

// forward() writes the count back through fill_, a double: beyond 2^53 it
// would no longer be exact (and 2^63 would not fit the int64 buffer). No
// run makes that many forward calls; a checkpoint claiming so is damaged.
void Dropout::on_state_loaded() {
  const std::int64_t value = draws.to(Device::cpu()).to(DType::i64).to_vector<std::int64_t>().at(0);
  if (value < 0 || value > (std::int64_t{1} << 53))
    throw UsageError("state dict: dropout draws must be in [0, 2^53], got " +
                     std::to_string(value));
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
