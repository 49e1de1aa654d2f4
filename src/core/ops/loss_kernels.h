#pragma once
// Backend kernels of the softmax-family ops on contiguous (rows, C) data.
#include "core/tensor.h"

namespace laplex {

namespace cpu {
void log_softmax_rows(const Tensor& x, const Tensor& out);
// grad_x = g - softmax * sum(g) per row, with softmax = exp(log_softmax).
void log_softmax_backward_rows(const Tensor& g, const Tensor& logp, const Tensor& out);
// Per-row loss of cross entropy with smoothing (out: (rows,)), and the
// gradient of the batch mean w.r.t. logits (grad: (rows, C)), in one pass.
void cross_entropy_rows(const Tensor& logits, const Tensor& targets, double smoothing,
                        const Tensor& loss_rows, const Tensor& grad);
}  // namespace cpu

namespace cuda {
void log_softmax_rows(const Tensor& x, const Tensor& out);
void log_softmax_backward_rows(const Tensor& g, const Tensor& logp, const Tensor& out);
void cross_entropy_rows(const Tensor& logits, const Tensor& targets, double smoothing,
                        const Tensor& loss_rows, const Tensor& grad);
}  // namespace cuda

}  // namespace laplex
