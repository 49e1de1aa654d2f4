#pragma once
// Runs the same computation on the CPU and on cuda:0 and compares outputs and
// input gradients: the check every CUDA op gets. Tests using it carry the
// gpu label (file suffix _gpu_test.cpp) and skip without a GPU.
#include <gtest/gtest.h>

#include <functional>
#include <vector>

#include "core/tensor.h"

namespace laplex::testing {

using DeviceFunction = std::function<Tensor(const std::vector<Tensor>&)>;

// `inputs` are float32 CPU tensors; those in `differentiable` (by index)
// get gradients compared too, from the loss sum(w * f(inputs)) with fixed
// random w. Integer inputs (indices, labels) are moved but not differentiated.
::testing::AssertionResult check_device_twin(const DeviceFunction& f,
                                             const std::vector<Tensor>& inputs,
                                             const std::vector<int>& differentiable,
                                             double atol = 1e-5, double rtol = 1e-4);

// GTEST_SKIP()s the calling test when no GPU can be used.
#define LAPLEX_REQUIRE_GPU()                                   \
  do {                                                         \
    if (!::laplex::cuda_available()) GTEST_SKIP() << "no GPU"; \
  } while (0)

}  // namespace laplex::testing
