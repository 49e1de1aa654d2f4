#pragma once
// Runs the CPU LAPLEX kernels on a LaplexProblem in float or double and hands
// the results back as float64, so tests compare them with the oracle.
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
};

struct LaplexResult {
  std::vector<double> y, transposed;  // forward and W^T gy
  LaplexGradients grads;              // empty vectors for what was not wanted
};

template <class T>
LaplexResult run_laplex_cpu(const LaplexProblem& p, const LaplexWanted& wanted = {});

}  // namespace laplex::testing
