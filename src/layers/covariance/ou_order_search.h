#pragma once
// A global search over the order of LAPLEX-OU anchors, for starts that carry
// no structure (anchors: random).
//
// Why: the exact NLL reaches an anchor only through its two sorted
// neighbours (the precision is tridiagonal), so gradient descent on t moves
// an anchor among the pixels it already sits next to and never finds the
// distant pixels it correlates with; from a random order the anchors stay a
// random field (README, measured). But for a fixed order the same NLL is a
// sum over consecutive pairs, so the order itself can be optimised as a path
// problem, exactly and globally:
//
//   For standardised values y_a, y_b with correlation c, the chain term of
//   b after a, minimised over the coupling r = exp(-alpha gap) in [0, 1), is
//   0.5 log(1 - r^2) + (1 - 2 r c + r^2) / (2 (1 - r^2)) - 1/2 (relative to
//   b alone), with the minimum at r = max(c, 0):
//       cost(a, b) = 0.5 log(1 - max(c, 0)^2)   (<= 0, symmetric),
//   minus the mutual information of the pair. The best order is the
//   Hamiltonian path of least total cost (largest chained mutual
//   information), searched here by 2-opt (reverse a stretch of the path) and
//   Or-opt (move a stretch of 1 to 3 anchors elsewhere, either way round),
//   and rotation (join the path's ends, cut it elsewhere): each move changes
//   one to three pairs, so its gain is exact in O(1) and a sweep over all
//   moves is O(n^2).
//
// Costs use the sample's own means and standard deviations (the order
// depends on correlations only). The n x n cost matrix is what limits n:
// kOuOrderSearchMaxDims.
#include <cstdint>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace laplex {

// 8192^2 doubles are 512 MiB; a sweep of all moves then takes about 1.2 s
// (measured on 2 cores: a planted chain found in 12 sweeps, 20 s with the costs).
constexpr std::int64_t kOuOrderSearchMaxDims = 8192;
// The sample a search reads, rows x dims: 4 GiB as float32 (the trainer's
// copy, then the search's standardised one). Above kOuOrderSearchMaxDims
// the search is ou_order_search_sparse.h's.
constexpr std::int64_t kOuOrderSearchMaxValues = std::int64_t{1} << 30;
// Fashion-MNIST's search converges in under 10 sweeps; the cap bounds the
// time on data where it would not.
constexpr std::int64_t kOuOrderSearchMaxSweeps = 100;

// The symmetric cost matrix, row-major n x n, zero on the diagonal.
struct OuPairCosts {
  std::int64_t n = 0;
  std::vector<double> cost;
  double operator()(std::int64_t a, std::int64_t b) const { return cost[a * n + b]; }
};

// Costs from a sample x (rows, n), rows >= 2, on any device and dtype
// (computed in float64 on the CPU). A constant column correlates with
// nothing (cost 0). `eps` caps c^2 at 1 - eps like the model's clamp.
OuPairCosts ou_pair_costs(const Tensor& x, double eps);

// The total cost of visiting the anchors in `order` (a permutation of 0..n).
double ou_path_cost(const OuPairCosts& costs, const std::vector<std::int64_t>& order);

struct OuOrderSearchResult {
  std::vector<std::int64_t> order;  // order[k] = the dimension at rank k
  double start_cost = 0;
  double cost = 0;
  std::int64_t moves = 0;   // improving moves applied
  std::int64_t sweeps = 0;  // passes over all moves, the last of which found none
  bool converged = false;   // false when max_sweeps ran out first
  std::string phases;       // seconds per phase, for the log ("" when not timed)
};

// Local search from `start` (a permutation of 0..n): sweeps of 2-opt,
// Or-opt and rotation moves, each applied when it lowers the cost, until a sweep finds
// none or after max_sweeps. Deterministic; never raises the cost.
OuOrderSearchResult ou_order_search(const OuPairCosts& costs, std::vector<std::int64_t> start,
                                    std::int64_t max_sweeps);

}  // namespace laplex
