#pragma once
// maxpool2d and avgpool2d on CUDA through cudnnPoolingForward/Backward:
// float32 NCHW, square window, stride and padding from Window2d. Max pooling
// never picks padding (PyTorch's MaxPool2d); pool.cpp takes its backward
// from max_pool_backward_cuda.h, which keeps the CPU's tie rule. Average
// pooling divides by the full window, padding zeros included (PyTorch's
// AvgPool2d default count_include_pad). Runs on the device's compute stream;
// every status is checked and thrown as laplex::Error naming the call.
// Inputs: contiguous float32 tensors on one CUDA device. Built only with
// LAPLEX_WITH_CUDNN; this header needs no cuDNN header itself.
#include "core/tensor.h"
#include "layers/conv/unfold.h"

namespace laplex::cuda {

// x (B, C, H, W) -> (B, C, OH, OW).
Tensor pool2d_cudnn_forward(const Tensor& x, const Window2d& window, bool take_max);
// The gradient of average pooling's x from the forward's x and y and grad_y
// (y's shape). Max pooling's is max_pool_backward_cuda.h's.
Tensor avg_pool2d_cudnn_backward(const Tensor& x, const Tensor& y, const Tensor& grad_y,
                                 const Window2d& window);

}  // namespace laplex::cuda
