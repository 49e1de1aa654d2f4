#include "layers/covariance/ou_order_search_sparse.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cmath>
#include <deque>
#include <numeric>
#include <tuple>
#include <utility>

#include "core/error.h"
#include "core/random.h"

namespace laplex {

namespace {

constexpr std::int32_t kNone = -1;
// Smaller gains are rounding; taking them could cycle between equal paths.
constexpr double kMinGain = 1e-9;
// The ends of fragments are a few percent of the points: fewer neighbours suffice.
constexpr int kJoinNeighbours = 8;

double pair_cost(double c, double eps) {
  const double r = std::max(c, 0.0);
  return 0.5 * std::log(std::max(1 - r * r, eps));
}

// The sample correlation of a and b: from a's candidate list when b is in
// it (the same dot product, computed when the list was built), else from
// the points. The moves below ask mostly for links to candidates, and a
// point read from a random place in memory is what such a call costs.
float correlation_of(const OuPoints& points, const OuNeighbours& nb, std::int32_t a,
                     std::int32_t b) {
  const std::int32_t* list = nb.of(a);
  for (int s = 0; s < nb.k; ++s)
    if (list[s] == b) return nb.correlation_of(a)[s];
  return points.correlation(a, b);
}

// "name 1.2 s, ..." for the log: where a search of millions of points spends its minutes.
struct PhaseClock {
  std::chrono::steady_clock::time_point last = std::chrono::steady_clock::now();
  std::string summary;
  void lap(const char* name) {
    const auto now = std::chrono::steady_clock::now();
    char part[64];
    std::snprintf(part, sizeof part, "%s%s %.1f s", summary.empty() ? "" : ", ", name,
                  std::chrono::duration<double>(now - last).count());
    summary += part;
    last = now;
  }
};

struct Candidate {
  float c;
  std::int32_t a, b;
};

class Components {
 public:
  explicit Components(std::int64_t n) : parent_(static_cast<std::size_t>(n)) {
    std::iota(parent_.begin(), parent_.end(), 0);
  }
  std::int32_t find(std::int32_t a) {
    while (parent_[a] != a) {
      parent_[a] = parent_[parent_[a]];
      a = parent_[a];
    }
    return a;
  }
  void unite(std::int32_t a, std::int32_t b) { parent_[find(a)] = find(b); }

 private:
  std::vector<std::int32_t> parent_;
};

// Each dimension's two path neighbours (kNone where a side is free).
struct Fragments {
  explicit Fragments(std::int64_t n) : side(static_cast<std::size_t>(2 * n), kNone), components(n) {}
  bool free(std::int32_t a) const { return side[2 * a + 1] == kNone; }
  bool link(std::int32_t a, std::int32_t b) {
    if (a == b || !free(a) || !free(b) || components.find(a) == components.find(b)) return false;
    side[2 * a + (side[2 * a] == kNone ? 0 : 1)] = b;
    side[2 * b + (side[2 * b] == kNone ? 0 : 1)] = a;
    components.unite(a, b);
    return true;
  }
  std::vector<std::int32_t> side;
  Components components;
};

// Candidate pairs with a positive correlation, each once, best first.
// `ids` maps the lists' indices to dimensions (empty: the identity).
std::vector<Candidate> candidates(const OuNeighbours& nb, const std::vector<std::int32_t>& ids) {
  std::vector<Candidate> pairs;
  for (std::int64_t i = 0; i < nb.n; ++i)
    for (int s = 0; s < nb.k; ++s) {
      const std::int32_t j = nb.of(i)[s];
      const float c = nb.correlation_of(i)[s];
      if (j < 0 || !(c > 0)) break;
      // A pair in both lists is taken from the lower index's.
      if (j < i && std::find(nb.of(j), nb.of(j) + nb.k, static_cast<std::int32_t>(i)) != nb.of(j) + nb.k)
        continue;
      const std::int32_t a = ids.empty() ? static_cast<std::int32_t>(i) : ids[i];
      const std::int32_t b = ids.empty() ? j : ids[j];
      pairs.push_back({c, std::min(a, b), std::max(a, b)});
    }
  std::sort(pairs.begin(), pairs.end(), [](const Candidate& x, const Candidate& y) {
    return std::tie(y.c, x.a, x.b) < std::tie(x.c, y.a, y.b);
  });
  return pairs;
}

std::int64_t match_greedily(const std::vector<Candidate>& pairs, Fragments& fragments) {
  std::int64_t links = 0;
  for (const Candidate& p : pairs) links += fragments.link(p.a, p.b) ? 1 : 0;
  return links;
}

// Joins fragments through their free ends: rounds of matching on the ends'
// own neighbour lists. Returns the rounds run.
std::int64_t join_fragments(const OuPoints& points, Fragments& fragments,
                            const OuSparseSearchOptions& options) {
  std::int64_t rounds = 0;
  for (int round = 0; round < options.join_rounds; ++round) {
    std::vector<std::int32_t> ends;
    for (std::int32_t i = 0; i < static_cast<std::int32_t>(points.n); ++i)
      if (fragments.free(i)) ends.push_back(i);
    if (ends.size() <= 2) break;  // one fragment (or one point) is left
    OuNeighbourOptions o = options.neighbours;
    o.k = kJoinNeighbours;
    o.seed = derive_seed(options.neighbours.seed, 1000 + static_cast<std::uint64_t>(round));
    const OuNeighbours nb = ou_correlation_neighbours(ou_points_subset(points, ends), o);
    ++rounds;
    if (match_greedily(candidates(nb, ends), fragments) == 0) break;
  }
  return rounds;
}

// The fragments one after the other, each walked from one free end.
std::vector<std::int64_t> concatenate(const Fragments& fragments, std::int64_t n) {
  std::vector<std::int64_t> order;
  order.reserve(static_cast<std::size_t>(n));
  std::vector<char> seen(static_cast<std::size_t>(n), 0);
  for (std::int32_t i = 0; i < static_cast<std::int32_t>(n); ++i) {
    if (seen[i] || !fragments.free(i)) continue;
    std::int32_t prev = kNone, at = i;
    while (at != kNone) {
      order.push_back(at);
      seen[at] = 1;
      const std::int32_t s0 = fragments.side[2 * at], s1 = fragments.side[2 * at + 1];
      const std::int32_t next = s0 != prev && s0 != kNone ? s0 : (s1 != prev ? s1 : kNone);
      prev = at;
      at = next;
    }
  }
  check(static_cast<std::int64_t>(order.size()) == n, "ou_order_search_sparse: the fragments miss points");
  return order;
}

// The anchors still to try, each in the queue at most once: after a move
// only the anchors next to what changed can gain from another look.
class WorkQueue {
 public:
  explicit WorkQueue(std::int64_t n) : queued_(static_cast<std::size_t>(n), 0) {}
  bool empty() const { return queue_.empty(); }
  void push(std::int32_t a) {
    if (a == kNone || queued_[a]) return;
    queued_[a] = 1;
    queue_.push_back(a);
  }
  std::int32_t pop() {
    const std::int32_t a = queue_.front();
    queue_.pop_front();
    queued_[a] = 0;
    return a;
  }

 private:
  std::deque<std::int32_t> queue_;
  std::vector<char> queued_;
};

// 2-opt with neighbour lists on the path closed into a cycle through a
// virtual end anchor (which costs 0 next to any anchor): a move replaces
// two links by a link from an anchor to one of its candidates and the link
// between their former neighbours, reversing the stretch between them.
// On a cycle either side of the two links may be reversed for the same
// result, so the shorter is; moves that would still reverse more than
// kMaxReversal anchors are skipped (they would make the pass O(n^2)).
class TwoOpt {
 public:
  static constexpr std::int64_t kMaxReversal = 50000;

  TwoOpt(const OuPoints& points, const OuNeighbours& nb, double eps, const std::vector<std::int64_t>& order)
      : points_(points), nb_(nb), eps_(eps), size_(points.n + 1),
        cycle_(static_cast<std::size_t>(size_)), pos_(static_cast<std::size_t>(size_)) {
    for (std::int64_t k = 0; k < points.n; ++k) cycle_[k] = static_cast<std::int32_t>(order[k]);
    cycle_[points.n] = end();
    for (std::int64_t k = 0; k < size_; ++k) pos_[cycle_[k]] = k;
  }

  std::int64_t run(std::int64_t max_moves, bool& converged) {
    WorkQueue queue(points_.n);
    for (std::int64_t k = 0; k < points_.n; ++k) queue.push(cycle_[k]);
    converged = true;
    while (!queue.empty()) {
      if (moves_ >= max_moves) {
        converged = false;
        break;
      }
      for (const std::int32_t touched : improve(queue.pop()))
        if (touched != end()) queue.push(touched);
    }
    return moves_;
  }

  // The path: the cycle read from just after the virtual end.
  std::vector<std::int64_t> order() const {
    std::vector<std::int64_t> order;
    order.reserve(static_cast<std::size_t>(points_.n));
    for (std::int64_t k = 1; k < size_; ++k) order.push_back(cycle_[(pos_[end()] + k) % size_]);
    return order;
  }

 private:
  std::int32_t end() const { return static_cast<std::int32_t>(points_.n); }
  std::int32_t at(std::int64_t k) const { return cycle_[wrap(k)]; }
  double cost(std::int32_t a, std::int32_t b) const {
    return a == end() || b == end() ? 0.0 : pair_cost(correlation_of(points_, nb_, a, b), eps_);
  }

  // The best move that links a to a candidate; applied if it gains.
  // Returns the anchors it touched (none when no move was made).
  std::vector<std::int32_t> improve(std::int32_t a) {
    const std::int64_t i = pos_[a];
    const std::int32_t succ = at(i + 1), pred = at(i - 1);
    const double to_succ = cost(a, succ), to_pred = cost(pred, a);
    double best = -kMinGain;
    std::int64_t best_from = 0, best_to = 0;
    std::int32_t best_c = kNone;
    for (int s = 0; s < nb_.k; ++s) {
      const std::int32_t c = nb_.of(a)[s];
      if (c < 0 || !(nb_.correlation_of(a)[s] > 0)) break;
      if (c == succ || c == pred) continue;
      const double joined = pair_cost(nb_.correlation_of(a)[s], eps_);
      // A move gains only if its new link beats the one it breaks at a
      // (the lists are best first, so no later candidate will).
      if (joined >= std::max(to_succ, to_pred)) break;
      const std::int64_t j = pos_[c];
      const std::int32_t c_succ = at(j + 1), c_pred = at(j - 1);
      // a, [succ .. c] reversed, c_succ: links (a, c) and (succ, c_succ).
      if (joined < to_succ && short_enough(i + 1, j)) {
        const double after = joined + cost(succ, c_succ) - to_succ - cost(c, c_succ);
        if (after < best) best = after, best_from = i + 1, best_to = j, best_c = c;
      }
      // pred, [a .. c_pred] reversed, c: links (pred, c_pred) and (a, c).
      if (joined < to_pred && short_enough(i, j - 1)) {
        const double before = joined + cost(pred, c_pred) - to_pred - cost(c_pred, c);
        if (before < best) best = before, best_from = i, best_to = j - 1, best_c = c;
      }
    }
    if (best_c == kNone) return {};
    const std::vector<std::int32_t> touched = {a, succ, pred, best_c, at(pos_[best_c] + 1), at(pos_[best_c] - 1)};
    const std::int64_t from = wrap(best_from), len = stretch(best_from, best_to);
    if (len <= size_ - len)
      reverse(from, len);
    else
      reverse(wrap(best_to + 1), size_ - len);
    ++moves_;
    return touched;
  }

  std::int64_t wrap(std::int64_t k) const { return ((k % size_) + size_) % size_; }
  // Positions from .. to along the cycle, both included.
  std::int64_t stretch(std::int64_t from, std::int64_t to) const { return wrap(to - from) + 1; }
  bool short_enough(std::int64_t from, std::int64_t to) const {
    const std::int64_t len = stretch(from, to);
    return std::min(len, size_ - len) <= kMaxReversal;
  }

  void reverse(std::int64_t from, std::int64_t len) {
    for (std::int64_t k = 0; k < len / 2; ++k) {
      const std::int64_t x = (from + k) % size_, y = (from + len - 1 - k) % size_;
      std::swap(cycle_[x], cycle_[y]);
      pos_[cycle_[x]] = x;
      pos_[cycle_[y]] = y;
    }
  }

  const OuPoints& points_;
  const OuNeighbours& nb_;
  double eps_;
  std::int64_t size_;  // n + 1: the anchors and the virtual end
  std::vector<std::int32_t> cycle_;
  std::vector<std::int64_t> pos_;
  std::int64_t moves_ = 0;
};

// Or-opt on a doubly linked path: moves a stretch of 1-3 anchors next to a
// candidate of one of its ends, forwards or reversed.
class OrOpt {
 public:
  OrOpt(const OuPoints& points, const OuNeighbours& nb, double eps, const std::vector<std::int64_t>& order)
      : points_(points), nb_(nb), eps_(eps),
        next_(static_cast<std::size_t>(points.n), kNone), prev_(static_cast<std::size_t>(points.n), kNone),
        link_(static_cast<std::size_t>(points.n), 0.0) {
    for (std::size_t k = 0; k + 1 < order.size(); ++k) {
      next_[order[k]] = static_cast<std::int32_t>(order[k + 1]);
      prev_[order[k + 1]] = static_cast<std::int32_t>(order[k]);
      link_[order[k]] = cost(static_cast<std::int32_t>(order[k]), static_cast<std::int32_t>(order[k + 1]));
    }
  }

  // Returns the improving moves applied; `converged` is false when the cap stopped it.
  std::int64_t run(const std::vector<std::int64_t>& order, std::int64_t max_moves, bool& converged) {
    WorkQueue queue(points_.n);
    for (const std::int64_t a : order) queue.push(static_cast<std::int32_t>(a));
    std::int64_t moves = 0;
    converged = true;
    while (!queue.empty()) {
      if (moves >= max_moves) {
        converged = false;
        break;
      }
      const std::int32_t a = queue.pop();
      Move best;
      for (int len = 1; len <= 3; ++len) {
        consider(a, len, true, best);
        if (len > 1) consider(a, len, false, best);
      }
      if (best.delta < -kMinGain) {
        for (const std::int32_t touched : apply(best)) queue.push(touched);
        ++moves;
      }
    }
    return moves;
  }

  std::vector<std::int64_t> order() const {
    std::vector<std::int64_t> order;
    std::int32_t at = 0;
    while (prev_[at] != kNone) at = prev_[at];
    for (; at != kNone; at = next_[at]) order.push_back(at);
    return order;
  }

 private:
  struct Move {
    double delta = 0;
    std::int32_t first = kNone, last = kNone;  // the stretch, in path order
    std::int32_t left = kNone, right = kNone;  // the gap it goes into
    bool reversed = false;
    int len = 0;
  };

  double cost(std::int32_t a, std::int32_t b) const {
    return a == kNone || b == kNone ? 0.0 : pair_cost(correlation_of(points_, nb_, a, b), eps_);
  }

  // The stretch of `len` anchors from a along next (forward) or prev.
  void consider(std::int32_t a, int len, bool forward, Move& best) const {
    std::int32_t stretch[3] = {a, kNone, kNone};
    for (int s = 1; s < len; ++s) {
      stretch[s] = forward ? next_[stretch[s - 1]] : prev_[stretch[s - 1]];
      if (stretch[s] == kNone) return;
    }
    const std::int32_t first = forward ? stretch[0] : stretch[len - 1];
    const std::int32_t last = forward ? stretch[len - 1] : stretch[0];
    const std::int32_t p = prev_[first], q = next_[last];
    if (p == kNone && q == kNone) return;  // the stretch is the whole path
    auto inside = [&](std::int32_t v) { return std::find(stretch, stretch + len, v) != stretch + len; };
    const double closed = cost(p, q);
    const double broken_first = p == kNone ? 0.0 : link_[p], broken_last = link_[last];
    const double removed = closed - broken_first - broken_last;
    for (const std::int32_t end : {first, last}) {
      // A move gains only if the end's new link beats the one it breaks
      // there (the lists are best first, so no later candidate will).
      const double broken = end == first ? broken_first : broken_last;
      for (int s = 0; s < nb_.k; ++s) {
        const std::int32_t c = nb_.of(end)[s];
        if (c < 0 || !(nb_.correlation_of(end)[s] > 0)) break;
        if (pair_cost(nb_.correlation_of(end)[s], eps_) >= broken) break;
        if (inside(c)) continue;
        // The two gaps beside c in the path without the stretch.
        const std::int32_t after = c == p ? q : next_[c];
        const std::int32_t before = c == q ? p : prev_[c];
        const std::int32_t gaps[2][2] = {{c, after}, {before, c}};
        for (const auto& gap : gaps) {
          const std::int32_t l = gap[0], r = gap[1];
          const bool home = l == p && r == q;
          const double opened = home ? closed : (l == kNone || r == kNone ? 0.0 : link_[l]);
          const double forward_delta = removed - opened + cost(l, first) + cost(last, r);
          const double reversed_delta = removed - opened + cost(l, last) + cost(first, r);
          if (!home && forward_delta < best.delta) best = {forward_delta, first, last, l, r, false, len};
          if (len > 1 && reversed_delta < best.delta) best = {reversed_delta, first, last, l, r, true, len};
        }
      }
    }
  }

  // Returns the anchors whose neighbourhood changed.
  std::vector<std::int32_t> apply(const Move& m) {
    std::vector<std::int32_t> stretch;
    for (std::int32_t v = m.first;; v = next_[v]) {
      stretch.push_back(v);
      if (v == m.last) break;
    }
    const std::int32_t p = prev_[m.first], q = next_[m.last];
    if (p != kNone) next_[p] = q;
    if (q != kNone) prev_[q] = p;
    if (m.reversed) std::reverse(stretch.begin(), stretch.end());
    const std::size_t len = stretch.size();
    for (std::size_t s = 0; s < len; ++s) {
      prev_[stretch[s]] = s == 0 ? m.left : stretch[s - 1];
      next_[stretch[s]] = s + 1 == len ? m.right : stretch[s + 1];
    }
    if (m.left != kNone) next_[m.left] = stretch.front();
    if (m.right != kNone) prev_[m.right] = stretch.back();
    // The anchors whose next changed.
    for (const std::int32_t v : {p, m.left})
      if (v != kNone) link_[v] = cost(v, next_[v]);
    for (const std::int32_t v : stretch) link_[v] = cost(v, next_[v]);
    std::vector<std::int32_t> touched = {p, q, m.left, m.right};
    touched.insert(touched.end(), stretch.begin(), stretch.end());
    return touched;
  }

  const OuPoints& points_;
  const OuNeighbours& nb_;
  double eps_;
  std::vector<std::int32_t> next_, prev_;
  std::vector<double> link_;  // link_[v] = cost(v, next_[v]), 0 at the path's end
};

}  // namespace

double ou_sparse_path_cost(const OuPoints& points, const std::vector<std::int64_t>& order, double eps) {
  const std::int64_t n = static_cast<std::int64_t>(order.size());
  double total = 0;
#pragma omp parallel for reduction(+ : total) schedule(static)
  for (std::int64_t k = 1; k < n; ++k) total += pair_cost(points.correlation(order[k - 1], order[k]), eps);
  return total;
}

OuOrderSearchResult ou_order_search_sparse(const OuPoints& points, std::vector<std::int64_t> start,
                                           const OuSparseSearchOptions& options, double eps) {
  check(static_cast<std::int64_t>(start.size()) == points.n,
        "ou_order_search_sparse: the start order has the wrong length");
  OuOrderSearchResult result;
  result.start_cost = ou_sparse_path_cost(points, start, eps);
  result.order = std::move(start);
  result.cost = result.start_cost;
  result.converged = true;
  if (points.n < 3) return result;

  PhaseClock clock;
  const OuNeighbours nb = ou_correlation_neighbours(points, options.neighbours);
  clock.lap("neighbours");
  Fragments fragments(points.n);
  match_greedily(candidates(nb, {}), fragments);
  clock.lap("matching");
  result.sweeps = join_fragments(points, fragments, options);
  std::vector<std::int64_t> order = concatenate(fragments, points.n);
  clock.lap("joining");

  const std::int64_t max_moves = options.max_moves_per_dim * points.n;
  bool converged = true;
  TwoOpt two_opt(points, nb, eps, order);
  result.moves = two_opt.run(max_moves, converged);
  order = two_opt.order();
  clock.lap("2-opt");
  if (converged) {
    OrOpt or_opt(points, nb, eps, order);
    result.moves += or_opt.run(order, max_moves, converged);
    order = or_opt.order();
    clock.lap("or-opt");
  }
  result.phases = clock.summary;
  const double cost = ou_sparse_path_cost(points, order, eps);
  if (cost < result.start_cost) {
    result.order = std::move(order);
    result.cost = cost;
  }
  result.converged = converged;
  return result;
}

}  // namespace laplex
