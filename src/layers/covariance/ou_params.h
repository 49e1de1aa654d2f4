#pragma once
// The parameters of the LAPLEX-OU density x ~ N(mu, D K D) with
// K[i,j] = exp(-alpha |t_i - t_j|), d = softplus(d_raw), alpha = softplus(rho)
// (laplex-math.md section 4), as the NLL kernels take them.
#include "core/tensor.h"

namespace laplex {

struct OuParams {
  Tensor mu;     // (n)
  Tensor t;      // (n) anchors
  Tensor d_raw;  // (n), d = softplus(d_raw)
  Tensor rho;    // (1), alpha = softplus(rho)
};

// The lower clamp of 1 - r_k^2 (r_k = exp(-alpha gap_k)). With it the NLL is
// that of the chain y_k = r_k y_{k-1} + sqrt(q_k) e_k, q_k = max(1 - r_k^2,
// eps): still a normalised Gaussian density, equal to N(0, K) for every gap
// with 1 - r_k^2 >= eps, and finite at tied anchors (gap 0: r = 1, q = eps),
// where K itself is singular. The gradient through a clamped q_k is zero.
constexpr double kOuDefaultEps = 1e-6;

}  // namespace laplex
