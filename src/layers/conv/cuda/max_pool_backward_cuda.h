#pragma once
// The gradient of max pooling on CUDA, by the CPU twin's rule
// (cpu/pool2d_cpu.cpp): each window's gradient goes to its first maximum in
// row-major order, a NaN winning over numbers; padding never wins. cuDNN's
// backward finds the winner by comparing x with the saved y instead, which
// leaves ties to its kernels and cannot match a NaN (NaN != NaN), so the
// GPU would route gradients differently from the CPU on all-zero windows
// after a ReLU. One thread per input element sums the gradients of the
// windows whose maximum it is, in the CPU's window order: deterministic,
// no atomics, and bit-identical to the CPU in float32.
#include "core/tensor.h"
#include "layers/conv/unfold.h"

namespace laplex::cuda {

// x (B, C, H, W) and grad_y (B, C, OH, OW), contiguous float32 on one CUDA
// device -> the gradient of x.
Tensor max_pool2d_backward_cuda(const Tensor& x, const Tensor& grad_y, const Window2d& window);

}  // namespace laplex::cuda
