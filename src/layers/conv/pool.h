#pragma once
// maxpool2d and avgpool2d over NCHW images (square windows), as PyTorch's
// MaxPool2d (padding counts as -inf) and AvgPool2d (count_include_pad: the
// padding zeros are averaged in). The stride defaults to the kernel size.
// On the CPU (float32/float64, padding at most half the window) one
// autograd op of direct loops (cpu/pool2d_cpu.h); on a CUDA float32 input
// with cuDNN built (LAPLEX_WITH_CUDNN), one op ("maxpool2d_cudnn",
// "avgpool2d_cudnn") through cudnnPoolingForward/Backward (cuda/pool2d_cudnn.h);
// neither is differentiable twice. Otherwise an im2col gather + max/mean
// (autograd through those ops).
#include "layers/conv/unfold.h"
#include "layers/module.h"

namespace laplex {

Tensor max_pool2d(const Tensor& x, const Window2d& window);
Tensor avg_pool2d(const Tensor& x, const Window2d& window);
// True when the pools take the cuDNN path: x as for conv2d_uses_cudnn, and
// padding at most half the window (so no window lies wholly in the padding).
bool pool2d_uses_cudnn(const Tensor& x, const Window2d& window);

class MaxPool2d : public Module {
 public:
  explicit MaxPool2d(const Window2d& window) : window_(window) {}
  Tensor forward(const Tensor& x) override { return max_pool2d(x, window_); }
  std::string type_name() const override { return "maxpool2d"; }

 private:
  Window2d window_;
};

class AvgPool2d : public Module {
 public:
  explicit AvgPool2d(const Window2d& window) : window_(window) {}
  Tensor forward(const Tensor& x) override { return avg_pool2d(x, window_); }
  std::string type_name() const override { return "avgpool2d"; }

 private:
  Window2d window_;
};

}  // namespace laplex
