#pragma once
// conv2d on the CPU, the classic way: im2col into a (C k^2, images L)
// buffer (L = OH OW output pixels; chunks of images side by side, the
// buffer kept under 32 MB) and one GEMM against the (O, C k^2) weight per
// chunk; the backward runs the two transposed GEMMs (weight: gy cols^T;
// data: W^T gy then col2im). Long GEMMs let the multithreaded BLAS run near
// its peak, where one small GEMM per image did not; im2col, col2im and the
// layout copies run over OpenMP threads. Float32 and float64.
//
// The same four calls as the cuDNN backend (cuda/conv2d_cudnn.h), so
// conv2d() in conv2d.cpp records one autograd op over either. Inputs:
// contiguous CPU tensors of one floating dtype (the caller checks this).
#include "core/tensor.h"
#include "layers/conv/unfold.h"

namespace laplex::cpu {

// x (B, C, H, W), weight (O, C, k, k), bias (O) or undefined -> (B, O, OH, OW).
Tensor conv2d_forward(const Tensor& x, const Tensor& weight, const Tensor& bias,
                      const Window2d& window);
// grad_y (B, O, OH, OW), weight -> grad of x, shape x_shape.
Tensor conv2d_backward_data(const Tensor& grad_y, const Tensor& weight, const Shape& x_shape,
                            const Window2d& window);
// grad_y, x -> grad of weight, shape weight_shape.
Tensor conv2d_backward_filter(const Tensor& grad_y, const Tensor& x, const Shape& weight_shape,
                              const Window2d& window);
// grad_y (B, O, OH, OW) -> grad of bias (O): the sum over batch and pixels.
Tensor conv2d_backward_bias(const Tensor& grad_y);

}  // namespace laplex::cpu
