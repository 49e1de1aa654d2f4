#pragma once
// The per-element Adam/AdamW rule, shared by the CPU loop and the CUDA kernel,
// in the same operation order as torch so float results agree closely.
#include <cmath>

#include "core/ops/elementwise_functors.h"  // LAPLEX_HOST_DEVICE
#include "optim/adam.h"

namespace laplex::optim {

template <class T>
LAPLEX_HOST_DEVICE inline void adam_update(T& p, T grad, T& m, T& v, T lr, T beta1, T beta2,
                                           T eps, T weight_decay, bool decoupled, T step_size,
                                           T bias_correction2_sqrt) {
  T g = grad;
  if (decoupled)
    p = p * (T(1) - lr * weight_decay);
  else
    g = g + weight_decay * p;
  m = m * beta1 + g * (T(1) - beta1);
  v = v * beta2 + g * g * (T(1) - beta2);
  const T denom = std::sqrt(v) / bias_correction2_sqrt + eps;
  p = p - step_size * (m / denom);
}

}  // namespace laplex::optim
