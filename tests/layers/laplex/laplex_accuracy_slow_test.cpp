// Float32 accuracy of the CPU kernels at n = m = 10^6 against a float64 run
// of the same fast path on the same (float-rounded) inputs: relative error
// <= 1e-4 (issue 3). Normwise: ||f32 - f64||_2 / ||f64||_2 per output.
#include <gtest/gtest.h>

#include <string>

#include "helpers/laplex_oracle.h"
#include "helpers/laplex_runner.h"

namespace laplex::testing {
namespace {

void check_accuracy(bool phased) {
  const LaplexProblem p = million_anchor_problem(2, phased);
  const LaplexResult single = run_laplex_cpu<float>(p);
  const LaplexResult reference = run_laplex_cpu<double>(p);
  expect_float32_accurate(std::string("n = 10^6, ") + (phased ? "phased" : "unphased"), single,
                          reference);
}

TEST(LaplexAccuracy, Float32AtMillionUnphased) { check_accuracy(false); }
TEST(LaplexAccuracy, Float32AtMillionPhased) { check_accuracy(true); }

}  // namespace
}  // namespace laplex::testing
