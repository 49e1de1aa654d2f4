#pragma once
// maxpool2d and avgpool2d on the CPU: direct loops over each (image,
// channel) plane, planes spread over OpenMP threads. Max pooling never picks
// padding and takes the first maximum of a window (a NaN wins, as in
// PyTorch's MaxPool2d); its backward finds that same element again from x
// instead of storing indices. Average pooling divides by the full window,
// padding zeros included (PyTorch's AvgPool2d default count_include_pad).
// Inputs: contiguous CPU tensors of one floating dtype; the caller,
// pool.cpp, checks the window leaves no window wholly in the padding.
#include "core/tensor.h"
#include "layers/conv/unfold.h"

namespace laplex::cpu {

// x (B, C, H, W) -> (B, C, OH, OW).
Tensor pool2d_forward(const Tensor& x, const Window2d& window, bool take_max);
// The gradient of x from the forward's x and grad_y (the output's shape).
Tensor pool2d_backward(const Tensor& x, const Tensor& grad_y, const Window2d& window,
                       bool take_max);

}  // namespace laplex::cpu
