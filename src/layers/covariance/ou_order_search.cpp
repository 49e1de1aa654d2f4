#include "layers/covariance/ou_order_search.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "core/ops/elementwise.h"
#include "core/ops/matmul.h"
#include "core/ops/reduce.h"
#include "core/ops/view.h"

namespace laplex {

namespace {

constexpr std::int64_t kNone = -1;  // the missing neighbour beyond either end of the path

// An improvement smaller than this is rounding, not a better order; taking it
// could cycle between equal orders.
constexpr double kMinGain = 1e-10;

double pair(const OuPairCosts& c, std::int64_t a, std::int64_t b) {
  return a == kNone || b == kNone ? 0.0 : c(a, b);
}

// links[k] = cost of the pair (order[k], order[k+1]). The sweeps read the
// pairs already on the path from here and every other pair from the rows of
// the one or two anchors a move is about, so their inner loops stay in one
// or two rows of the matrix (cache) instead of jumping across all of it.
std::vector<double> path_links(const OuPairCosts& c, const std::vector<std::int64_t>& order) {
  std::vector<double> links(order.size(), 0.0);
  for (std::size_t k = 0; k + 1 < order.size(); ++k) links[k] = c(order[k], order[k + 1]);
  return links;
}

// Reversing order[i..j] replaces the pairs (order[i-1], order[i]) and
// (order[j], order[j+1]) by (order[i-1], order[j]) and (order[i], order[j+1]).
std::int64_t two_opt_sweep(const OuPairCosts& c, std::vector<std::int64_t>& order) {
  const std::int64_t n = static_cast<std::int64_t>(order.size());
  std::vector<double> links = path_links(c, order);
  std::int64_t moves = 0;
  for (std::int64_t i = 0; i + 1 < n; ++i) {
    const std::int64_t left = i > 0 ? order[i - 1] : kNone;
    const double* first_row = &c.cost[order[i] * n];
    const double* left_row = left == kNone ? nullptr : &c.cost[left * n];
    const double left_now = i > 0 ? links[i - 1] : 0.0;
    double best = -kMinGain;
    std::int64_t best_j = kNone;
    for (std::int64_t j = i + 1; j < n; ++j) {
      const bool has_right = j + 1 < n;
      const double joined_left = left_row ? left_row[order[j]] : 0.0;
      const double joined_right = has_right ? first_row[order[j + 1]] : 0.0;
      const double delta = joined_left + joined_right - left_now - (has_right ? links[j] : 0.0);
      if (delta < best) {
        best = delta;
        best_j = j;
      }
    }
    if (best_j != kNone) {
      std::reverse(order.begin() + i, order.begin() + best_j + 1);
      links = path_links(c, order);
      ++moves;
    }
  }
  return moves;
}

// Moves the stretch order[i..i+len) into the gap it fits best in the rest
// of the path, forwards or reversed.
std::int64_t or_opt_sweep(const OuPairCosts& c, std::vector<std::int64_t>& order,
                          std::int64_t len) {
  const std::int64_t n = static_cast<std::int64_t>(order.size());
  std::vector<double> links = path_links(c, order);
  std::int64_t moves = 0;
  for (std::int64_t i = 0; i + len <= n && len < n; ++i) {
    const std::int64_t first = order[i], last = order[i + len - 1];
    const double* first_row = &c.cost[first * n];
    const double* last_row = &c.cost[last * n];
    const std::int64_t prev = i > 0 ? order[i - 1] : kNone;
    const std::int64_t next = i + len < n ? order[i + len] : kNone;
    const double closed = pair(c, prev, next);
    const double removed = (i > 0 ? links[i - 1] : 0.0) + (next != kNone ? links[i + len - 1] : 0.0) - closed;
    // rest is order without the stretch; gap k lies between rest[k-1] and
    // rest[k], which sit at positions pos(k-1) and pos(k) of order.
    auto pos = [&](std::int64_t k) { return k < i ? k : k + len; };
    const std::int64_t rest_n = n - len;
    double best = -kMinGain;
    std::int64_t best_gap = kNone;
    bool best_reversed = false;
    for (std::int64_t k = 0; k <= rest_n; ++k) {
      const std::int64_t a = k > 0 ? order[pos(k - 1)] : kNone;
      const std::int64_t b = k < rest_n ? order[pos(k)] : kNone;
      const double opened = a == kNone || b == kNone ? 0.0 : (k == i ? closed : links[pos(k - 1)]);
      const double base = removed + opened;
      const double forward = (a == kNone ? 0.0 : first_row[a]) + (b == kNone ? 0.0 : last_row[b]) - base;
      const double reversed = (a == kNone ? 0.0 : last_row[a]) + (b == kNone ? 0.0 : first_row[b]) - base;
      if (forward < best) {
        best = forward;
        best_gap = k;
        best_reversed = false;
      }
      if (reversed < best) {
        best = reversed;
        best_gap = k;
        best_reversed = true;
      }
    }
    if (best_gap != kNone) {
      std::vector<std::int64_t> stretch(order.begin() + i, order.begin() + i + len);
      if (best_reversed) std::reverse(stretch.begin(), stretch.end());
      order.erase(order.begin() + i, order.begin() + i + len);
      order.insert(order.begin() + best_gap, stretch.begin(), stretch.end());
      links = path_links(c, order);
      ++moves;
    }
  }
  return moves;
}

// Cuts the path between order[k] and order[k+1] and joins its two ends:
// order[k+1..n), order[0..k]. Seen as a cycle through a virtual end node,
// this moves the end node, which neither move above can do: a path that is
// the true chain rotated (its ends joined, one inner link cut) is a local
// optimum of 2-opt and short Or-opt moves.
std::int64_t rotate_sweep(const OuPairCosts& c, std::vector<std::int64_t>& order) {
  const std::int64_t n = static_cast<std::int64_t>(order.size());
  if (n < 3) return 0;
  const double joined = c(order[n - 1], order[0]);
  double best = -kMinGain;
  std::int64_t best_k = kNone;
  for (std::int64_t k = 0; k + 1 < n; ++k) {
    const double delta = joined - c(order[k], order[k + 1]);
    if (delta < best) {
      best = delta;
      best_k = k;
    }
  }
  if (best_k == kNone) return 0;
  std::rotate(order.begin(), order.begin() + best_k + 1, order.end());
  return 1;
}

}  // namespace

OuPairCosts ou_pair_costs(const Tensor& x, double eps) {
  if (x.dim() != 2 || x.size(0) < 2)
    throw UsageError("ou_pair_costs: the sample must be (rows >= 2, n), got " + shape_str(x.shape()));
  const std::int64_t rows = x.size(0), n = x.size(1);
  if (n > kOuOrderSearchMaxDims)
    throw UsageError("ou_pair_costs: " + std::to_string(n) + " dimensions, the order search handles at most " +
                     std::to_string(kOuOrderSearchMaxDims));
  const Tensor xs = x.to(Device::cpu()).to(DType::f64);
  const Tensor centred = sub(xs, mean(xs, {0}, true));
  const Tensor moments = div(matmul(transpose(centred, 0, 1), centred), static_cast<double>(rows));
  const std::vector<double> m = moments.contiguous().to_vector<double>();
  OuPairCosts costs{n, std::vector<double>(static_cast<std::size_t>(n * n), 0.0)};
  for (std::int64_t a = 0; a < n; ++a)
    for (std::int64_t b = a + 1; b < n; ++b) {
      const double va = m[a * n + a], vb = m[b * n + b];
      if (!(va > 0 && vb > 0)) continue;  // a constant column: independent of all
      const double r = std::max(m[a * n + b] / std::sqrt(va * vb), 0.0);
      const double cost = 0.5 * std::log(std::max(1 - r * r, eps));
      costs.cost[a * n + b] = costs.cost[b * n + a] = cost;
    }
  return costs;
}

double ou_path_cost(const OuPairCosts& costs, const std::vector<std::int64_t>& order) {
  double total = 0;
  for (std::size_t k = 1; k < order.size(); ++k) total += costs(order[k - 1], order[k]);
  return total;
}

OuOrderSearchResult ou_order_search(const OuPairCosts& costs, std::vector<std::int64_t> start,
                                    std::int64_t max_sweeps) {
  check(static_cast<std::int64_t>(start.size()) == costs.n,
        "ou_order_search: the start order has the wrong length");
  OuOrderSearchResult result;
  result.start_cost = ou_path_cost(costs, start);
  result.order = std::move(start);
  while (result.sweeps < max_sweeps) {
    ++result.sweeps;
    std::int64_t moves = two_opt_sweep(costs, result.order);
    for (std::int64_t len = 1; len <= 3; ++len) moves += or_opt_sweep(costs, result.order, len);
    moves += rotate_sweep(costs, result.order);
    result.moves += moves;
    if (moves == 0) {
      result.converged = true;
      break;
    }
  }
  result.cost = ou_path_cost(costs, result.order);
  return result;
}

}  // namespace laplex
