// The sort plan against a plain reference: std::stable_sort of every event
// by (position, sources first, index), as laplex-math.md section 2 orders
// them. The radix sort's digit passes, its skip of already sorted sides and
// the sentinel-ended merge all reach the same order and gaps.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <tuple>
#include <utility>
#include <vector>

#include "core/error.h"
#include "layers/laplex/laplex_plan.h"

namespace laplex::testing {
namespace {

template <class T>
void expect_reference_order(const std::vector<T>& t, const std::vector<T>& s, std::int64_t heads) {
  const auto m = static_cast<std::int64_t>(t.size()) / heads;
  const auto n = static_cast<std::int64_t>(s.size()) / heads;
  const LaplexShape shape{1, m, n, heads, false};
  const LaplexPlan<T> plan = make_laplex_plan(shape, t.data(), s.data());
  ASSERT_EQ(plan.code.size(), static_cast<std::size_t>(heads * (m + n)));
  for (std::int64_t h = 0; h < heads; ++h) {
    // (position, 0 for a source / 1 for a target, index); -0 counts as +0.
    std::vector<std::tuple<T, int, std::uint32_t>> events;
    for (std::int64_t j = 0; j < n; ++j)
      events.emplace_back(s[h * n + j] + T(0), 0, static_cast<std::uint32_t>(j));
    for (std::int64_t i = 0; i < m; ++i)
      events.emplace_back(t[h * m + i] + T(0), 1, static_cast<std::uint32_t>(i));
    std::stable_sort(events.begin(), events.end());
    T previous = events.empty() ? T(0) : std::get<0>(events[0]);
    for (std::size_t k = 0; k < events.size(); ++k) {
      const auto [position, target, index] = events[k];
      const std::size_t at = static_cast<std::size_t>(h * (m + n)) + k;
      const std::uint32_t code = index | (target ? kLaplexTargetBit : 0u);
      ASSERT_EQ(plan.code[at], code) << "head " << h << " event " << k;
      ASSERT_EQ(plan.gap[at], position - previous) << "head " << h << " event " << k;
      previous = position;
    }
  }
}

// Anchors over many magnitudes and both signs (every digit of the key
// varies, so no radix pass is skipped), with ties within and across sides.
template <class T>
std::vector<T> wide_anchors(std::int64_t count, std::mt19937_64& rng) {
  std::uniform_real_distribution<double> exponent(-20, 20), unit(0, 1);
  std::vector<T> a(static_cast<std::size_t>(count));
  for (auto& v : a) {
    const double magnitude = std::exp2(exponent(rng));
    v = static_cast<T>(unit(rng) < 0.5 ? -magnitude : magnitude);
  }
  for (std::size_t k = 0; k + 7 < a.size(); k += 7) a[k + 3] = a[k];  // ties within a side
  return a;
}

template <class T>
void check_shapes() {
  std::mt19937_64 rng(5);
  for (auto [m, n, heads] : {std::tuple<std::int64_t, std::int64_t, std::int64_t>{1, 1, 1},
                             {0, 9, 1},
                             {9, 0, 2},
                             {300, 200, 1},
                             // Around the size where the merge splits into chains.
                             {31, 32, 1},
                             {32, 32, 1},
                             {33, 32, 1},
                             {5000, 7000, 2},
                             {40000, 30000, 1},
                             // Past the thresholds for parallel sorts and check passes.
                             {300000, 290000, 2}}) {
    SCOPED_TRACE(::testing::Message() << "m " << m << " n " << n << " heads " << heads);
    std::vector<T> t = wide_anchors<T>(heads * m, rng), s = wide_anchors<T>(heads * n, rng);
    // Ties across the sides, and -0 next to +0.
    for (std::size_t k = 0; k < std::min(t.size(), s.size()); k += 11) s[k] = t[k];
    if (!t.empty()) t[0] = T(-0.0);
    if (!s.empty()) s[0] = T(0.0);
    expect_reference_order(t, s, heads);
    // Sorted sides (the pass that skips the radix sort), random and sorted
    // mixed across sides and heads.
    std::vector<T> sorted_t = t, sorted_s = s;
    for (std::int64_t h = 0; h < heads; ++h) {
      std::sort(sorted_t.begin() + h * m, sorted_t.begin() + (h + 1) * m);
      std::sort(sorted_s.begin() + h * n, sorted_s.begin() + (h + 1) * n);
    }
    expect_reference_order(sorted_t, sorted_s, heads);
    expect_reference_order(sorted_t, s, heads);
    expect_reference_order(t, sorted_s, heads);
  }
}

TEST(LaplexPlan, FloatOrderMatchesStableSort) { check_shapes<float>(); }

// Few distinct positions: every place where the merge splits into chains
// falls inside a run of equal positions of both sides.
TEST(LaplexPlan, ChainsSplitInsideRunsOfTies) {
  std::mt19937_64 rng(9);
  for (int distinct : {1, 2, 5}) {
    for (auto [m, n] : {std::pair<std::int64_t, std::int64_t>{64, 64}, {1000, 3}, {501, 777}}) {
      SCOPED_TRACE(::testing::Message() << distinct << " positions, m " << m << " n " << n);
      std::uniform_int_distribution<int> pick(0, distinct - 1);
      std::vector<float> t(static_cast<std::size_t>(m)), s(static_cast<std::size_t>(n));
      for (auto& v : t) v = static_cast<float>(pick(rng));
      for (auto& v : s) v = static_cast<float>(pick(rng));
      expect_reference_order(t, s, 1);
      std::sort(t.begin(), t.end());
      std::sort(s.begin(), s.end());
      expect_reference_order(t, s, 1);
    }
  }
}
TEST(LaplexPlan, DoubleOrderMatchesStableSort) { check_shapes<double>(); }

TEST(LaplexPlan, NonFiniteSourceOrTargetThrows) {
  const LaplexShape shape{1, 3, 3, 1, false};
  const std::vector<float> good = {2, 0, 1};
  for (float bad : {NAN, INFINITY, -INFINITY}) {
    std::vector<float> with_bad = {0, bad, 1};
    EXPECT_THROW(make_laplex_plan(shape, with_bad.data(), good.data()), Error);
    EXPECT_THROW(make_laplex_plan(shape, good.data(), with_bad.data()), Error);
  }
}

// A plan made with a pool that earlier plans of other sizes used (the
// sort's items live in it) sorts the same.
TEST(LaplexPlan, ReusedPoolSortsTheSame) {
  auto pool = std::make_shared<LaplexScratchPool>();
  std::mt19937_64 rng(9);
  for (std::int64_t n : {20000, 50, 3000}) {
    const std::vector<float> t = wide_anchors<float>(n, rng), s = wide_anchors<float>(n + 1, rng);
    const LaplexShape shape{1, n, n + 1, 1, false};
    const LaplexPlan<float> fresh = make_laplex_plan(shape, t.data(), s.data());
    const LaplexPlan<float> pooled = make_laplex_plan(shape, t.data(), s.data(), pool);
    EXPECT_EQ(fresh.code, pooled.code);
    EXPECT_EQ(fresh.gap, pooled.gap);
  }
}

}  // namespace
}  // namespace laplex::testing
