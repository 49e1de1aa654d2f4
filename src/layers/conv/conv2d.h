#pragma once
// conv2d: a 2-D convolution over NCHW images (square kernel), as PyTorch's
// Conv2d: y[b,o] = bias[o] + sum_c weight[o,c] * x[b,c] (cross-correlation).
// Computed as im2col (unfold2d) + one GEMM, on the CPU (OpenBLAS) and on
// CUDA (cuBLAS); the backward is the GEMM's and the gather's (col2im).
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
Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias, const Window2d& window);

}  // namespace laplex
