#pragma once
// One reusable gradient check for every differentiable op: autograd's
// gradients against central finite differences, in float64.
#include <gtest/gtest.h>

#include <functional>
#include <vector>

#include "core/tensor.h"

namespace laplex::testing {

struct GradcheckOptions {
  double eps = 1e-6;    // finite-difference step
  double atol = 1e-6;
  double rtol = 1e-5;
  std::uint64_t seed = 7;  // for the output weights of non-scalar functions
};

using TensorFunction = std::function<Tensor(const std::vector<Tensor>&)>;

// `inputs` must be float64 CPU leaves; the check sets requires_grad itself.
// Non-scalar outputs are reduced to sum(w * f(inputs)) with fixed random w,
// so every output element's gradient is exercised.
::testing::AssertionResult gradcheck(const TensorFunction& f, std::vector<Tensor> inputs,
                                     const GradcheckOptions& options = {});

// Random float64 tensor with entries uniform in [lo, hi).
Tensor random_tensor(const Shape& shape, std::uint64_t seed, double lo = -1.0, double hi = 1.0);

// Max |a - b| / (atol + rtol |b|) over elements, and a readable report.
::testing::AssertionResult all_close(const Tensor& actual, const Tensor& expected, double atol,
                                     double rtol);

}  // namespace laplex::testing
