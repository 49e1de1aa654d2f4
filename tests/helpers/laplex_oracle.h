#pragma once
// A float64 dense oracle for LAPLEX, written from laplex-math.md section 1
// alone: materialise W, y = W x, and the gradients of L = sum(gy * y) by
// differentiating the dense expression (|d| as where(d >= 0, d, -d), so at
// a tie the d >= 0 side) or by finite differences.
#include <cstdint>
#include <vector>

namespace laplex::testing {

struct LaplexProblem {
  std::int64_t batch = 1, m = 1, n = 1, heads = 1;
  bool phased = false;
  std::vector<double> t, s, u, v;  // u, v empty: no gains
  std::vector<double> rho, omega, phi;  // omega, phi read only when phased
  std::vector<double> x, gy;            // (B, n), (B, m)
};

struct LaplexGradients {
  std::vector<double> dx, dt, ds, du, dv, drho, domega, dphi;
};

// Random problem: anchors uniform in [-span, span), gains in [0.5, 1.5),
// rho in [-1, 1), omega in [-2, 2), phi in [-pi, pi).
LaplexProblem random_laplex_problem(std::int64_t batch, std::int64_t m, std::int64_t n,
                                    std::int64_t heads, bool phased, bool gains,
                                    std::uint64_t seed, double span = 3.0);

// The anchors of every head (t and s) put in one order; the kernels' results
// must not depend on it.
enum class AnchorOrder { ascending, descending, rotated };
LaplexProblem with_anchor_order(LaplexProblem p, AnchorOrder order);

// Every input rounded to float, so a float32 and a float64 run of the kernels
// see the same operator.
LaplexProblem float_rounded(LaplexProblem p);

// Issue 3's float32 accuracy problem: n = m = 10^6 anchors over [0, 1000]
// (about 1000 neighbours within one decay length), rho 0.5, omega 0.7,
// phi 0.3, float-rounded.
LaplexProblem million_anchor_problem(std::int64_t batch, bool phased);

std::vector<double> oracle_dense(const LaplexProblem& p);    // (m, n)
std::vector<double> oracle_forward(const LaplexProblem& p);  // (B, m), no bias
double oracle_loss(const LaplexProblem& p);                  // sum(gy * W x)
LaplexGradients oracle_gradients(const LaplexProblem& p);

// Central differences of oracle_loss, except for an anchor that ties with an
// anchor of the other side: there a second-order one-sided difference, t
// moved upward and s downward (the d >= 0 side).
LaplexGradients oracle_finite_differences(const LaplexProblem& p, double eps = 1e-6);

}  // namespace laplex::testing
