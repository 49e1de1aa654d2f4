#pragma once
// conv2d on CUDA through cuDNN 9's classic convolution API: forward,
// backward-data, backward-filter and the bias gradient, float32 NCHW, square
// kernel, stride and zero padding from Window2d, no dilation, no groups.
// cudnnGetConvolution*Algorithm_v7 ranks the algorithms once per shape
// (the ranking is kept for the process); each call runs the best-ranked
// usable one whose workspace the caching allocator can give, on the
// device's compute stream; nothing waits for the device. FMA math only (no TF32), so results
// match the CPU im2col + GEMM path to float32 rounding. Every cuDNN status
// is checked and thrown as laplex::Error naming the call.
//
// Inputs: contiguous float32 tensors on one CUDA device (the caller,
// conv2d() in conv2d.cpp, checks this). Outputs are new tensors. Built only
// with LAPLEX_WITH_CUDNN; this header needs no cuDNN header itself.
#include "core/tensor.h"
#include "layers/conv/unfold.h"

namespace laplex::cuda {

// x (B, C, H, W), weight (O, C, k, k), bias (O) or undefined -> (B, O, OH, OW).
Tensor conv2d_cudnn_forward(const Tensor& x, const Tensor& weight, const Tensor& bias,
                            const Window2d& window);
// grad_y (B, O, OH, OW), weight -> grad of x, shape x_shape.
Tensor conv2d_cudnn_backward_data(const Tensor& grad_y, const Tensor& weight,
                                  const Shape& x_shape, const Window2d& window);
// grad_y, x -> grad of weight, shape weight_shape.
Tensor conv2d_cudnn_backward_filter(const Tensor& grad_y, const Tensor& x,
                                    const Shape& weight_shape, const Window2d& window);
// grad_y (B, O, OH, OW) -> grad of bias (O): the sum over batch and pixels.
Tensor conv2d_cudnn_backward_bias(const Tensor& grad_y);

}  // namespace laplex::cuda
