#pragma once
// Sliding windows of an NCHW image as a gather (im2col), differentiated by
// autograd (the gather's backward is a scatter-add: col2im). The convolution
// and pooling layers run their direct CPU kernels or cuDNN when they can;
// this composed form is their fallback and the tests' reference.
#include <cstdint>

#include "core/tensor.h"

namespace laplex {

// The largest kernel_size, stride, padding and channel count a config may
// give: far beyond any image, and small enough that sizes computed from
// them (size + 2 padding, channels x kernel^2) cannot overflow.
inline constexpr std::int64_t kMaxWindowSide = 1 << 16;
inline constexpr std::int64_t kMaxChannels = 1 << 20;

struct Window2d {
  std::int64_t kernel = 1, stride = 1, padding = 0;
  // Output size of one spatial side of `size`; throws UsageError-free Error
  // when the window does not fit.
  std::int64_t output_size(std::int64_t size) const;
};

// x (B, C, H, W) -> (B, C, OH * OW, kernel * kernel): every window, padded
// with `pad_value` (0 for convolution and average pooling, -inf for max).
Tensor unfold2d(const Tensor& x, const Window2d& window, double pad_value);

}  // namespace laplex
