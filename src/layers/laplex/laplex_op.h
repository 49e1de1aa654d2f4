#pragma once
// The LAPLEX autograd op (laplex-math.md sections 1-3): y = W x + b for a
// batch x (B, n), with gradients for every input that requires one. The
// anchors are sorted once per call; the backward reuses that plan.
#include <memory>

#include "core/tensor.h"

namespace laplex {

struct LaplexScratchPool;

// Parameters with the names and shapes of laplex-math.md section 1. u, v,
// omega, phi and bias may be undefined (no gains, unphased, no bias).
struct LaplexParams {
  Tensor t;      // (H, m)
  Tensor s;      // (H, n)
  Tensor u;      // (H, m) or undefined
  Tensor v;      // (H, n) or undefined
  Tensor rho;    // (H)
  Tensor omega;  // (H), phased only
  Tensor phi;    // (H), phased only
  Tensor bias;   // (m) or undefined
};

struct LaplexOptions {
  // Phased kernel exp(-alpha |d|) cos(omega d + phi); needs omega and phi.
  // Unphased ignores them (their gradients are then zero).
  bool phased = false;
  // CPU scratch kept from one call to the next (laplex_plan.h): a layer
  // passes its own, so a training step reuses the previous step's pages
  // instead of faulting in and clearing fresh ones. Null: fresh scratch.
  std::shared_ptr<LaplexScratchPool> cpu_scratch;
};

// y (B, m). x and every parameter: one floating dtype (float32, or float64
// on the CPU), one device.
Tensor laplex_apply(const Tensor& x, const LaplexParams& params, const LaplexOptions& options = {});

// W (m, n) as a dense tensor (no bias): for tests, inspection, pictures.
Tensor laplex_to_dense(const LaplexParams& params, const LaplexOptions& options = {});

}  // namespace laplex
