#include "layers/conv/unfold.h"

#include <string>
#include <vector>

#include "core/error.h"
#include "core/ops/index.h"
#include "core/ops/join.h"
#include "core/ops/view.h"

namespace laplex {

std::int64_t Window2d::output_size(std::int64_t size) const {
  const std::int64_t padded = size + 2 * padding;
  check(kernel >= 1 && stride >= 1 && padding >= 0 && padded >= kernel,
        "window: kernel " + std::to_string(kernel) + ", stride " + std::to_string(stride) +
            ", padding " + std::to_string(padding) + " do not fit a side of " +
            std::to_string(size));
  return (padded - kernel) / stride + 1;
}

namespace {

// Zero (or pad_value) rows and columns around the image.
Tensor pad2d(const Tensor& x, std::int64_t padding, double pad_value) {
  if (padding == 0) return x;
  const Shape s = x.shape();
  const Tensor rows = Tensor::full({s[0], s[1], padding, s[3]}, pad_value, x.dtype(), x.device());
  const Tensor tall = concat({rows, x, rows}, 2);
  const Tensor cols =
      Tensor::full({s[0], s[1], s[2] + 2 * padding, padding}, pad_value, x.dtype(), x.device());
  return concat({cols, tall, cols}, 3);
}

}  // namespace

Tensor unfold2d(const Tensor& x, const Window2d& window, double pad_value) {
  check(x.dim() == 4, "unfold2d: expected (B, C, H, W), got " + shape_str(x.shape()));
  const std::int64_t batch = x.size(0), channels = x.size(1);
  const std::int64_t oh = window.output_size(x.size(2)), ow = window.output_size(x.size(3));
  const Tensor padded = pad2d(x, window.padding, pad_value);
  const std::int64_t hp = padded.size(2), wp = padded.size(3), k = window.kernel;
  std::vector<std::int64_t> index;
  index.reserve(oh * ow * k * k);
  for (std::int64_t r = 0; r < oh; ++r)
    for (std::int64_t c = 0; c < ow; ++c)
      for (std::int64_t i = 0; i < k; ++i)
        for (std::int64_t j = 0; j < k; ++j)
          index.push_back((r * window.stride + i) * wp + (c * window.stride + j));
  const Tensor where = Tensor::from_vector(index, {static_cast<std::int64_t>(index.size())}, x.device());
  const Tensor flat = reshape(padded, {batch, channels, hp * wp});
  return reshape(index_select(flat, 2, where), {batch, channels, oh * ow, k * k});
}

}  // namespace laplex
