#pragma once
// Softmax-family ops and losses with fused kernels.
#include "core/tensor.h"

namespace laplex {

// log(softmax(x)) along `dim`, computed stably (max subtracted).
Tensor log_softmax(const Tensor& x, std::int64_t dim = -1);
// Mean over the batch of the cross-entropy between softmax(logits) (B, C)
// and integer targets (B,) (int64 or int32), with torch's label smoothing:
// the target distribution is (1 - eps) onehot + eps / C.
Tensor cross_entropy(const Tensor& logits, const Tensor& targets, double label_smoothing = 0.0);
// Mean of (a - b)^2.
Tensor mse(const Tensor& a, const Tensor& b);

}  // namespace laplex
