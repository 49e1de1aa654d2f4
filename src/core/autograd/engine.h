#pragma once
// Runs the backward graph: from the roots' nodes, in reverse topological
// order, each node once, summing the gradients that reach it.
#include <vector>

#include "core/tensor.h"

namespace laplex::autograd {

void backward(const std::vector<Tensor>& roots, const std::vector<Tensor>& root_grads);

}  // namespace laplex::autograd
