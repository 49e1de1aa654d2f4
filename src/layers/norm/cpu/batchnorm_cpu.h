#pragma once
// Batch normalisation on the CPU in two passes over the data instead of the
// dozen broadcast and reduction ops it takes composed (each a full pass over
// a (B, C, H, W) activation): per channel, sums in float64 give the mean and
// biased variance, then one pass writes y = (x - mean) invstd w + b. The
// backward is one pass for the two per-channel sums and one for dx:
//   training: dx = w invstd (dy - mean(dy) - xhat mean(dy xhat))
//   evaluation (running statistics are constants): dx = w invstd dy
// with dw = sum(dy xhat), db = sum(dy). Channels are spread over OpenMP
// threads. Inputs: contiguous CPU tensors of one floating dtype, x viewed as
// (B, C, S) with S = H W (1 for BatchNorm1d); weight/bias (C) or undefined.
#include "core/tensor.h"

namespace laplex::cpu {

// The per-channel statistics a forward used, kept for its backward.
struct BatchNormSaved {
  Tensor mean, invstd;  // (C), x's dtype
};

// Training: normalises with the batch statistics; also returns the biased
// variance (C) in `batch_var` for the running-statistics update.
Tensor batchnorm_train_forward(const Tensor& x, const Tensor& weight, const Tensor& bias,
                               double eps, BatchNormSaved& saved, Tensor& batch_var);
// Evaluation: normalises with the given (running) mean and variance.
Tensor batchnorm_eval_forward(const Tensor& x, const Tensor& weight, const Tensor& bias,
                              const Tensor& mean, const Tensor& var, double eps,
                              BatchNormSaved& saved);

struct BatchNormGrads {
  Tensor x, weight, bias;  // undefined where not asked for
};

BatchNormGrads batchnorm_backward(const Tensor& grad_y, const Tensor& x, const Tensor& weight,
                                  const BatchNormSaved& saved, bool training, bool need_x,
                                  bool need_weight, bool need_bias);

}  // namespace laplex::cpu
