#pragma once
// Runs the CPU LAPLEX kernels on a LaplexProblem in float or double and hands
// the results back as float64, so tests compare them with the oracle.
#include <string>
#include <vector>

#include "helpers/laplex_oracle.h"

namespace laplex::testing {

// Which gradients to ask the kernels for; the others get null pointers.
struct LaplexWanted {
  bool dx = true, dt = true, ds = true, du = true, dv = true;
  bool drho = true, domega = true, dphi = true;
  // The backward reads x from the forward's saved rows (one head; what the
  // op does in training), or, when false, from x itself.
  bool saved_forward = true;
  // The forward's batch lanes per chunk (0: the kernels choose).
  int lanes = 0;
};

struct LaplexResult {
  std::vector<double> y, transposed;  // forward and W^T gy
  LaplexGradients grads;              // empty vectors for what was not wanted
};

template <class T>
LaplexResult run_laplex_cpu(const LaplexProblem& p, const LaplexWanted& wanted = {});

// Issue 3's float32 figure: each output of a float32 run (y, W^T g when it
// was computed, every gradient but domega and dphi) against a float64 run,
// normwise (||f32 - f64||_2 / ||f64||_2), printed after `label` and expected
// <= 1e-4.
void expect_float32_accurate(const std::string& label, const LaplexResult& single,
                             const LaplexResult& reference);

}  // namespace laplex::testing
