// The LAPLEX-OU anchor order search: the pair costs are exactly the model's
// NLL of a fixed order (so the search minimises the model's own likelihood),
// it recovers a planted chain from a random start, never raises the cost,
// and LaplexOu::search_anchor_order keeps the anchors' values.
#include "layers/covariance/ou_order_search.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

#include "core/ops/reduce.h"
#include "layers/covariance/density_config.h"
#include "layers/covariance/laplex_ou.h"

namespace laplex::testing {
namespace {

constexpr double kLog2Pi = 1.8378770664093453;

std::vector<std::int64_t> shuffled(std::int64_t n, std::uint64_t seed) {
  std::vector<std::int64_t> p(n);
  std::iota(p.begin(), p.end(), 0);
  std::shuffle(p.begin(), p.end(), std::mt19937_64(seed));
  return p;
}

// rows x n values of a Gaussian chain visiting the dimensions in `chain`
// order: y_chain[k] = r_k y_chain[k-1] + sqrt(1 - r_k^2) e, r_k in [0.6, 0.95),
// then each dimension scaled and shifted (the search must not care).
Tensor planted_chain(const std::vector<std::int64_t>& chain, std::int64_t rows, std::uint64_t seed) {
  const std::int64_t n = static_cast<std::int64_t>(chain.size());
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal;
  std::uniform_real_distribution<double> coupling(0.6, 0.95), scale(0.5, 2.0), shift(-1.0, 1.0);
  std::vector<double> r(n), a(n), b(n);
  for (std::int64_t k = 0; k < n; ++k) r[k] = coupling(rng), a[k] = scale(rng), b[k] = shift(rng);
  std::vector<double> x(rows * n);
  for (std::int64_t row = 0; row < rows; ++row) {
    double y = normal(rng);
    for (std::int64_t k = 0; k < n; ++k) {
      if (k > 0) y = r[k] * y + std::sqrt(1 - r[k] * r[k]) * normal(rng);
      x[row * n + chain[k]] = b[chain[k]] + a[chain[k]] * y;
    }
  }
  return Tensor::from_vector(x, {rows, n});
}

struct SampleMoments {
  std::vector<double> mean, sd, corr;  // population (1/rows) moments; corr n x n
};

SampleMoments moments(const Tensor& x) {
  const std::int64_t rows = x.size(0), n = x.size(1);
  const auto v = x.to_vector<double>();
  SampleMoments m{std::vector<double>(n), std::vector<double>(n), std::vector<double>(n * n)};
  for (std::int64_t j = 0; j < n; ++j) {
    double s = 0, ss = 0;
    for (std::int64_t i = 0; i < rows; ++i) s += v[i * n + j];
    m.mean[j] = s / rows;
    for (std::int64_t i = 0; i < rows; ++i) ss += (v[i * n + j] - m.mean[j]) * (v[i * n + j] - m.mean[j]);
    m.sd[j] = std::sqrt(ss / rows);
  }
  for (std::int64_t a = 0; a < n; ++a)
    for (std::int64_t b = 0; b < n; ++b) {
      double s = 0;
      for (std::int64_t i = 0; i < rows; ++i)
        s += (v[i * n + a] - m.mean[a]) * (v[i * n + b] - m.mean[b]);
      m.corr[a * n + b] = s / rows / (m.sd[a] * m.sd[b]);
    }
  return m;
}

TEST(OuOrderSearch, PairCostIsMinusTheMutualInformationOfPositiveCorrelations) {
  std::mt19937_64 rng(4);
  std::normal_distribution<double> normal;
  const std::int64_t rows = 500;
  std::vector<double> x(rows * 4);
  for (std::int64_t i = 0; i < rows; ++i) {
    const double a = normal(rng);
    x[i * 4 + 0] = a;
    x[i * 4 + 1] = 3 + 2 * (0.8 * a + 0.6 * normal(rng));
    x[i * 4 + 2] = -a + 0.1 * normal(rng);  // negatively correlated: no OU coupling can fit it
    x[i * 4 + 3] = 7.0;                     // constant
  }
  const Tensor sample = Tensor::from_vector(x, {rows, 4});
  const OuPairCosts c = ou_pair_costs(sample, 1e-6);
  const SampleMoments m = moments(sample);
  const double r01 = m.corr[0 * 4 + 1];
  ASSERT_GT(r01, 0.5);
  EXPECT_NEAR(c(0, 1), 0.5 * std::log(1 - r01 * r01), 1e-12);
  EXPECT_EQ(c(0, 1), c(1, 0));
  EXPECT_EQ(c(0, 2), 0.0);
  EXPECT_EQ(c(0, 3), 0.0);
  EXPECT_EQ(c(2, 3), 0.0);
  EXPECT_EQ(c(1, 1), 0.0);
  // A column duplicated exactly is capped by eps, not -inf.
  std::vector<double> y(rows * 2);
  for (std::int64_t i = 0; i < rows; ++i) y[i * 2] = y[i * 2 + 1] = normal(rng);
  EXPECT_NEAR(ou_pair_costs(Tensor::from_vector(y, {rows, 2}), 1e-6)(0, 1), 0.5 * std::log(1e-6), 1e-9);
}

// With mu and the scales at the sample's moments and each gap chosen so
// that exp(-alpha gap) is the neighbours' correlation, the model's mean NLL
// over the sample is sum(log sd) + n/2 (log 2 pi + 1) + the path cost: the
// search's objective is the model's own likelihood, profiled over the gaps.
TEST(OuOrderSearch, PathCostIsTheModelNllAtTheBestGaps) {
  const std::int64_t n = 12, rows = 400;
  const auto chain = shuffled(n, 7);
  const Tensor x = planted_chain(chain, rows, 8);
  const SampleMoments m = moments(x);
  const auto order = shuffled(n, 9);  // any order; its correlations must be positive
  const double alpha = 0.7;
  std::vector<double> t(n), raw(n);
  double position = 0;
  for (std::int64_t k = 0; k < n; ++k) {
    if (k > 0) {
      const double c = m.corr[order[k - 1] * n + order[k]];
      ASSERT_GT(c, 0) << "pick another seed: the test needs positive neighbour correlations";
      position += -std::log(c) / alpha;
    }
    t[order[k]] = position;
  }
  for (std::int64_t j = 0; j < n; ++j) raw[j] = inverse_softplus(m.sd[j]);
  LaplexOuOptions o;
  o.dims = n;
  o.dtype = DType::f64;
  o.eps = 1e-12;
  LaplexOu model(o, 1);
  model.t.copy_(Tensor::from_vector(t, {n}));
  model.d.copy_(Tensor::from_vector(raw, {n}));
  model.mu.copy_(Tensor::from_vector(m.mean, {n}));
  model.rho.copy_(Tensor::from_vector(std::vector<double>{inverse_softplus(alpha)}, {1}));
  const double mean_nll = sum(model.nll(x)).item() / rows;
  double expected = ou_path_cost(ou_pair_costs(x, 1e-12), order) + 0.5 * n * (kLog2Pi + 1);
  for (double sd : m.sd) expected += std::log(sd);
  EXPECT_NEAR(mean_nll, expected, 1e-9 * std::fabs(expected));
}

TEST(OuOrderSearch, RecoversAPlantedChainFromARandomStart) {
  for (std::uint64_t seed : {11, 14, 17, 20}) {
    const std::int64_t n = 120;
    const auto chain = shuffled(n, seed);
    const OuPairCosts c = ou_pair_costs(planted_chain(chain, 4000, seed + 1), 1e-6);
    const OuOrderSearchResult r = ou_order_search(c, shuffled(n, seed + 2), 100);
    EXPECT_TRUE(r.converged);
    EXPECT_GT(r.moves, 0);
    EXPECT_LT(r.cost, r.start_cost);
    EXPECT_NEAR(r.cost, ou_path_cost(c, r.order), 1e-9);
    auto reversed = chain;
    std::reverse(reversed.begin(), reversed.end());
    EXPECT_TRUE(r.order == chain || r.order == reversed) << "seed " << seed;
    EXPECT_LE(r.cost, ou_path_cost(c, chain) + 1e-9);
  }
}

TEST(OuOrderSearch, RotationJoinsTheEndsOfARotatedChain) {
  // The chain with its ends joined and an inner link cut: no 2-opt or short
  // Or-opt move improves it, one rotation does.
  const std::int64_t n = 40;
  const auto chain = shuffled(n, 41);
  const OuPairCosts c = ou_pair_costs(planted_chain(chain, 3000, 42), 1e-6);
  auto rotated = chain;
  std::rotate(rotated.begin(), rotated.begin() + n / 2, rotated.end());
  const OuOrderSearchResult r = ou_order_search(c, rotated, 100);
  auto reversed = chain;
  std::reverse(reversed.begin(), reversed.end());
  EXPECT_TRUE(r.order == chain || r.order == reversed);
  EXPECT_GE(r.moves, 1);
}

TEST(OuOrderSearch, EndsInALocalOptimumWithoutRaisingTheCost) {
  // Independent columns: the costs are small and noisy, the worst case for
  // moves that only look better by rounding.
  std::mt19937_64 rng(21);
  std::normal_distribution<double> normal;
  const std::int64_t n = 60, rows = 50;
  std::vector<double> x(rows * n);
  for (auto& v : x) v = normal(rng);
  const OuPairCosts c = ou_pair_costs(Tensor::from_vector(x, {rows, n}), 1e-6);
  const auto start = shuffled(n, 22);
  const OuOrderSearchResult r = ou_order_search(c, start, 100);
  ASSERT_TRUE(r.converged);
  EXPECT_LE(r.cost, r.start_cost);
  auto sorted = r.order;
  std::sort(sorted.begin(), sorted.end());
  std::vector<std::int64_t> identity(n);
  std::iota(identity.begin(), identity.end(), 0);
  EXPECT_EQ(sorted, identity);
  const OuOrderSearchResult again = ou_order_search(c, r.order, 100);
  EXPECT_EQ(again.moves, 0);
  EXPECT_EQ(again.sweeps, 1);
  EXPECT_EQ(again.order, r.order);
  // One sweep allowed: it stops there, saying so.
  const OuOrderSearchResult capped = ou_order_search(c, start, 1);
  EXPECT_EQ(capped.sweeps, 1);
  EXPECT_FALSE(capped.converged);
}

TEST(OuOrderSearch, ModelSearchKeepsTheAnchorValuesAndLowersTheNll) {
  const std::int64_t n = 40, rows = 2000;
  const auto chain = shuffled(n, 31);
  const Tensor x = planted_chain(chain, rows, 32);
  LaplexOuOptions o;
  o.dims = n;
  o.anchors = "random";
  LaplexOu model(o, 33);
  model.mu.copy_(Tensor::from_vector(moments(x).mean, {n}).to(DType::f32));
  const auto before = model.t.to_vector<double>();
  const double nll_before = sum(model.nll(x.to(DType::f32))).item();
  const OuOrderSearchResult r = model.search_anchor_order(x, 100);
  const auto after = model.t.to_vector<double>();
  auto sorted_before = before, sorted_after = after;
  std::sort(sorted_before.begin(), sorted_before.end());
  std::sort(sorted_after.begin(), sorted_after.end());
  EXPECT_EQ(sorted_after, sorted_before);
  std::vector<std::int64_t> by_anchor(n);
  std::iota(by_anchor.begin(), by_anchor.end(), 0);
  std::sort(by_anchor.begin(), by_anchor.end(),
            [&](std::int64_t a, std::int64_t b) { return after[a] < after[b]; });
  EXPECT_EQ(by_anchor, r.order);
  auto reversed = chain;
  std::reverse(reversed.begin(), reversed.end());
  EXPECT_TRUE(r.order == chain || r.order == reversed);
  const double nll_after = sum(model.nll(x.to(DType::f32))).item();
  EXPECT_LT(nll_after, nll_before - 0.1 * std::fabs(nll_before));
  EXPECT_FALSE(model.t.requires_grad() && model.t.grad().defined());
  EXPECT_THROW(model.search_anchor_order(Tensor::zeros({5, n + 1}), 10), UsageError);
  EXPECT_THROW(model.search_anchor_order(Tensor::zeros({1, n}), 10), UsageError);
}

}  // namespace
}  // namespace laplex::testing
