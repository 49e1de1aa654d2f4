#pragma once
// The per-element SGD rule, shared by the CPU loop and the CUDA kernel.
#include "core/ops/elementwise_functors.h"  // LAPLEX_HOST_DEVICE

namespace laplex::optim {

template <class T>
LAPLEX_HOST_DEVICE inline void sgd_update(T& p, T grad, T* buf, T lr, T momentum, T weight_decay,
                                          bool nesterov, bool first) {
  T g = grad + weight_decay * p;
  if (buf) {
    const T b = first ? g : momentum * *buf + g;
    *buf = b;
    g = nesterov ? g + momentum * b : b;
  }
  p -= lr * g;
}

}  // namespace laplex::optim
