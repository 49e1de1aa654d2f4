#include "layers/conv/pool.h"

#include <limits>

#include "core/error.h"
#include "core/ops/reduce.h"
#include "core/ops/view.h"
#include "layers/registry.h"

namespace laplex {

namespace {

Tensor pool(const Tensor& x, const Window2d& window, bool take_max) {
  check(x.dim() == 4, "pool2d: expected (B, C, H, W), got " + shape_str(x.shape()));
  const std::int64_t oh = window.output_size(x.size(2)), ow = window.output_size(x.size(3));
  const double pad = take_max ? -std::numeric_limits<double>::infinity() : 0.0;
  const Tensor cols = unfold2d(x, window, pad);  // (B, C, L, k^2)
  const Tensor pooled = take_max ? max(cols, 3) : mean(cols, {3});
  return reshape(pooled, {x.size(0), x.size(1), oh, ow});
}

Window2d read_window(config::ConfigNode& node) {
  Window2d w;
  w.kernel = node.get<std::int64_t>("kernel_size");
  w.stride = node.get_or<std::int64_t>("stride", w.kernel);
  w.padding = node.get_or<std::int64_t>("padding", 0);
  if (w.kernel < 1) node.fail("kernel_size", "must be >= 1");
  if (w.stride < 1) node.fail("stride", "must be >= 1");
  if (w.padding < 0 || 2 * w.padding > w.kernel)
    node.fail("padding", "must be between 0 and kernel_size / 2");
  return w;
}

const ModuleRegistration max_registration("maxpool2d", [](config::ConfigNode& node, BuildContext&) {
  return std::make_shared<MaxPool2d>(read_window(node));
});
const ModuleRegistration avg_registration("avgpool2d", [](config::ConfigNode& node, BuildContext&) {
  return std::make_shared<AvgPool2d>(read_window(node));
});

}  // namespace

Tensor max_pool2d(const Tensor& x, const Window2d& window) { return pool(x, window, true); }
Tensor avg_pool2d(const Tensor& x, const Window2d& window) { return pool(x, window, false); }

}  // namespace laplex
