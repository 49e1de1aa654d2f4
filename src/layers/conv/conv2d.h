#pragma once
// conv2d: a 2-D convolution over NCHW images (square kernel), as PyTorch's
// Conv2d: y[b,o] = bias[o] + sum_c weight[o,c] * x[b,c] (cross-correlation).
// Three paths, each one autograd op or differentiable ops:
// - CPU, float32/float64: per-image im2col + GEMM over OpenMP threads, one
//   op "conv2d" whose backward runs the transposed GEMMs and col2im for just
//   the inputs that require grad (cpu/conv2d_cpu.h).
// - CUDA float32 with cuDNN built (LAPLEX_WITH_CUDNN): one op
//   "conv2d_cudnn", cudnnConvolutionForward (+ cudnnAddTensor for the bias)
//   and cuDNN's backward-data, backward-filter and bias gradient
//   (cuda/conv2d_cudnn.h).
// - otherwise (CUDA without cuDNN): im2col (unfold2d) + one
//   GEMM, differentiated through those ops.
// The first two backwards are not themselves differentiable (no double
// backward through them).
// Parameters: weight (out, in, k, k), bias (out), initialised like PyTorch:
// uniform(-1/sqrt(fan_in), 1/sqrt(fan_in)), fan_in = in * k * k.
#include "layers/conv/unfold.h"
#include "layers/module.h"

namespace laplex {

struct Conv2dOptions {
  std::int64_t in_channels = 1, out_channels = 1;
  Window2d window;
  bool bias = true;
};

class Conv2d : public Module {
 public:
  Conv2d(const Conv2dOptions& options, std::uint64_t seed);
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "conv2d"; }

  Tensor weight, bias;

 private:
  Conv2dOptions options_;
};

// The functional form: x (B, C, H, W), weight (O, C, k, k), bias (O) or
// undefined.
// On the cuDNN path weight and bias must be float32 on x's device.
Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias, const Window2d& window);

// True when conv2d(x, ...) takes the cuDNN path: laplex built with cuDNN, x a
// non-empty float32 CUDA tensor small enough for cuDNN's 32-bit descriptors.
bool conv2d_uses_cudnn(const Tensor& x);

// True when a convolution of x (B, C, H, W) by weight (O, C, k, k) fits
// cuDNN's 32-bit descriptors on its other tensors too: the weight and the
// output (B, O, OH, OW), which many output channels make larger than x.
// A CUDA convolution that does not fit takes the unfold + GEMM path.
bool conv2d_fits_cudnn(const Shape& x, const Shape& weight, const Window2d& window);

}  // namespace laplex
