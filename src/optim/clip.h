#pragma once
// Global-norm gradient clipping (torch.nn.utils.clip_grad_norm_): when the
// L2 norm of all gradients together exceeds max_norm, every gradient is
// scaled by max_norm / (norm + 1e-6). Returns the norm before clipping.
#include <vector>

#include "core/tensor.h"

namespace laplex::optim {

double clip_grad_norm(const std::vector<Tensor>& params, double max_norm);

}  // namespace laplex::optim
