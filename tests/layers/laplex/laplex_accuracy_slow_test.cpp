// Float32 accuracy of the CPU kernels at n = m = 10^6 against a float64 run
// of the same fast path on the same (float-rounded) inputs: relative error
// <= 1e-4 (issue 3). Normwise: ||f32 - f64||_2 / ||f64||_2 per output.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <random>

#include "helpers/laplex_oracle.h"
#include "helpers/laplex_runner.h"
#include "helpers/vector_compare.h"

namespace laplex::testing {
namespace {


// Inputs rounded to float first, so both runs see the same operator.
LaplexProblem float_rounded(LaplexProblem p) {
  for (auto* values : {&p.t, &p.s, &p.u, &p.v, &p.rho, &p.omega, &p.phi, &p.x, &p.gy})
    for (double& v : *values) v = static_cast<float>(v);
  return p;
}

void check_accuracy(bool phased) {
  const std::int64_t n = 1000000;
  // Anchors over [0, 1000]: ~1000 neighbours within one decay length.
  LaplexProblem p = random_laplex_problem(2, n, n, 1, phased, true, 5, 500.0);
  for (auto* anchors : {&p.t, &p.s})
    for (double& a : *anchors) a += 500.0;
  p.rho = {0.5};
  p.omega = {0.7};
  p.phi = {0.3};
  p = float_rounded(p);
  const LaplexResult single = run_laplex_cpu<float>(p);
  const LaplexResult reference = run_laplex_cpu<double>(p);
  const std::pair<const char*, double> errors[] = {
      {"y", relative_error(single.y, reference.y)},
      {"W^T g", relative_error(single.transposed, reference.transposed)},
      {"dx", relative_error(single.grads.dx, reference.grads.dx)},
      {"dt", relative_error(single.grads.dt, reference.grads.dt)},
      {"ds", relative_error(single.grads.ds, reference.grads.ds)},
      {"du", relative_error(single.grads.du, reference.grads.du)},
      {"dv", relative_error(single.grads.dv, reference.grads.dv)},
      {"drho", relative_error(single.grads.drho, reference.grads.drho)},
  };
  for (const auto& [name, error] : errors) {
    std::printf("n = 10^6, %s, float32 vs float64 relative error of %s: %.3g\n",
                phased ? "phased" : "unphased", name, error);
    EXPECT_LE(error, 1e-4) << name;
  }
}

TEST(LaplexAccuracy, Float32AtMillionUnphased) { check_accuracy(false); }
TEST(LaplexAccuracy, Float32AtMillionPhased) { check_accuracy(true); }

}  // namespace
}  // namespace laplex::testing
