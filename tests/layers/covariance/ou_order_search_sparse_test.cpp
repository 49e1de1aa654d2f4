// The order search for sizes beyond the n x n costs: its neighbour lists
// hold the truly most correlated dimensions, and the path it builds from
// them recovers a planted chain above kOuOrderSearchMaxDims, follows the
// grid of a smooth image field about as well as the exact search, never
// raises the cost, and does not depend on the thread count.
#include "layers/covariance/ou_order_search_sparse.h"

#include <gtest/gtest.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

#include "layers/covariance/density_config.h"
#include "layers/covariance/laplex_ou.h"
#include "layers/covariance/ou_chain_layout.h"

namespace laplex::testing {
namespace {

std::vector<std::int64_t> shuffled(std::int64_t n, std::uint64_t seed) {
  std::vector<std::int64_t> p(n);
  std::iota(p.begin(), p.end(), 0);
  std::shuffle(p.begin(), p.end(), std::mt19937_64(seed));
  return p;
}

// rows x n values of a Gaussian chain through the dimensions in `chain`
// order with coupling r between consecutive ones, each dimension then
// scaled and shifted.
Tensor planted_chain(const std::vector<std::int64_t>& chain, std::int64_t rows, double r,
                     std::uint64_t seed) {
  const std::int64_t n = static_cast<std::int64_t>(chain.size());
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal;
  std::vector<float> x(rows * n);
  for (std::int64_t row = 0; row < rows; ++row) {
    float y = normal(rng);
    for (std::int64_t k = 0; k < n; ++k) {
      if (k > 0) y = static_cast<float>(r * y + std::sqrt(1 - r * r) * normal(rng));
      x[row * n + chain[k]] = 0.5f + static_cast<float>(1 + chain[k] % 7) * y;
    }
  }
  return Tensor::from_vector(x, {rows, n});
}

// rows images (h, w) of white noise blurred twice by a 5 x 5 box: a smooth
// field whose correlations fall with the distance on the grid.
Tensor smooth_field(std::int64_t rows, std::int64_t h, std::int64_t w, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal;
  std::vector<float> x(rows * h * w);
  std::vector<float> tmp(h * w);
  auto blur = [&](float* img) {
    for (int axis = 0; axis < 2; ++axis) {
      for (std::int64_t i = 0; i < h; ++i)
        for (std::int64_t j = 0; j < w; ++j) {
          float s = 0;
          for (std::int64_t d = -2; d <= 2; ++d) {
            const std::int64_t ii = axis == 0 ? std::clamp<std::int64_t>(i + d, 0, h - 1) : i;
            const std::int64_t jj = axis == 1 ? std::clamp<std::int64_t>(j + d, 0, w - 1) : j;
            s += img[ii * w + jj];
          }
          tmp[i * w + j] = s / 5;
        }
      std::copy(tmp.begin(), tmp.end(), img);
    }
  };
  for (std::int64_t row = 0; row < rows; ++row) {
    float* img = x.data() + row * h * w;
    for (std::int64_t p = 0; p < h * w; ++p) img[p] = normal(rng);
    blur(img);
    blur(img);
  }
  return Tensor::from_vector(x, {rows, h * w});
}

std::vector<float> anchors_of(const std::vector<std::int64_t>& order) {
  std::vector<float> t(order.size());
  for (std::size_t k = 0; k < order.size(); ++k) t[order[k]] = static_cast<float>(k);
  return t;
}

double links_found(const std::vector<std::int64_t>& order, const std::vector<std::int64_t>& chain) {
  std::vector<std::int64_t> rank(chain.size());
  for (std::size_t k = 0; k < chain.size(); ++k) rank[chain[k]] = static_cast<std::int64_t>(k);
  std::int64_t found = 0;
  for (std::size_t k = 1; k < order.size(); ++k) found += std::llabs(rank[order[k]] - rank[order[k - 1]]) == 1;
  return static_cast<double>(found) / static_cast<double>(order.size() - 1);
}

}  // namespace

TEST(OuOrderSearchSparse, PointsGiveTheSampleCorrelation) {
  const std::int64_t rows = 13, n = 5;
  std::mt19937_64 rng(3);
  std::normal_distribution<double> normal;
  std::vector<double> x(rows * n);
  for (double& v : x) v = normal(rng);
  for (std::int64_t r = 0; r < rows; ++r) x[r * n + 4] = 2.5;  // a constant dimension
  const OuPoints p = ou_points(Tensor::from_vector(x, {rows, n}));
  EXPECT_EQ(p.width, 16);
  for (std::int64_t a = 0; a < 4; ++a)
    for (std::int64_t b = 0; b < 4; ++b) {
      double ma = 0, mb = 0;
      for (std::int64_t r = 0; r < rows; ++r) ma += x[r * n + a] / rows, mb += x[r * n + b] / rows;
      double sab = 0, saa = 0, sbb = 0;
      for (std::int64_t r = 0; r < rows; ++r) {
        sab += (x[r * n + a] - ma) * (x[r * n + b] - mb);
        saa += (x[r * n + a] - ma) * (x[r * n + a] - ma);
        sbb += (x[r * n + b] - mb) * (x[r * n + b] - mb);
      }
      EXPECT_NEAR(p.correlation(a, b), sab / std::sqrt(saa * sbb), 1e-6);
    }
  for (std::int64_t a = 0; a < n; ++a) EXPECT_EQ(p.correlation(a, 4), 0.0f);
  EXPECT_THROW(ou_points(Tensor::from_vector(std::vector<float>(5), {1, 5})), UsageError);
}

TEST(OuOrderSearchSparse, NeighbourListsRecallTheExactOnes) {
  const OuPoints p = ou_points(smooth_field(48, 40, 50, 5));
  const int k = 8;
  const OuNeighbours exact = ou_correlation_neighbours_exact(p, k);
  const OuNeighbours found = ou_correlation_neighbours(p, {k, 4, 1, 9});
  std::int64_t hits = 0;
  for (std::int64_t i = 0; i < p.n; ++i) {
    for (int s = 0; s < k; ++s) {
      // Sorted best first, with the correlations they name.
      const std::int32_t j = found.of(i)[s];
      ASSERT_GE(j, 0);
      ASSERT_NE(j, i);
      EXPECT_FLOAT_EQ(found.correlation_of(i)[s], p.correlation(i, j));
      if (s > 0) EXPECT_LE(found.correlation_of(i)[s], found.correlation_of(i)[s - 1]);
      hits += std::count(exact.of(i), exact.of(i) + k, j);
    }
  }
  const double recall = static_cast<double>(hits) / static_cast<double>(p.n * k);
  EXPECT_GT(recall, 0.98) << "recall " << recall;  // measured: 0.995
}

TEST(OuOrderSearchSparse, WidePointsSplitOnASketchAndStillRecall) {
  // 200 rows: the trees split on a 64-value sketch of each point, the
  // leaves compare the exact points.
  const OuPoints p = ou_points(smooth_field(200, 30, 40, 7));
  ASSERT_GT(p.width, 64);
  const int k = 8;
  const OuNeighbours exact = ou_correlation_neighbours_exact(p, k);
  const OuNeighbours found = ou_correlation_neighbours(p, {k, 8, 2, 3});
  std::int64_t hits = 0;
  for (std::int64_t i = 0; i < p.n; ++i)
    for (int s = 0; s < k; ++s) {
      EXPECT_FLOAT_EQ(found.correlation_of(i)[s], p.correlation(i, found.of(i)[s]));
      hits += std::count(exact.of(i), exact.of(i) + k, found.of(i)[s]);
    }
  const double recall = static_cast<double>(hits) / static_cast<double>(p.n * k);
  EXPECT_GT(recall, 0.98) << "recall " << recall;  // measured: 1
}

TEST(OuOrderSearchSparse, RecoversAPlantedChainAboveTheExactSearchsLimit) {
  const std::int64_t n = 3 * kOuOrderSearchMaxDims;
  const auto chain = shuffled(n, 21);
  const OuPoints p = ou_points(planted_chain(chain, 64, 0.9, 22));
  const OuOrderSearchResult r = ou_order_search_sparse(p, shuffled(n, 23), {}, 1e-6);
  EXPECT_TRUE(r.converged);
  EXPECT_LT(r.cost, r.start_cost);
  EXPECT_NEAR(r.cost, ou_sparse_path_cost(p, r.order, 1e-6), 1e-6 * std::abs(r.cost));
  auto sorted = r.order;
  std::sort(sorted.begin(), sorted.end());
  for (std::int64_t k = 0; k < n; ++k) ASSERT_EQ(sorted[k], k);
  // Measured: 99.7% of the links, 0.15% above the planted chain's cost.
  const double found = links_found(r.order, chain);
  EXPECT_GT(found, 0.99) << "planted links found " << found;
  EXPECT_LT(r.cost, 0.995 * ou_sparse_path_cost(p, chain, 1e-6));
}

TEST(OuOrderSearchSparse, FollowsAnImageGridLikeTheExactSearch) {
  const std::int64_t h = 40, w = 50, n = h * w;
  const Tensor x = smooth_field(64, h, w, 31);
  const OuPoints p = ou_points(x);
  const auto start = shuffled(n, 32);
  const OuOrderSearchResult sparse = ou_order_search_sparse(p, start, {}, 1e-6);
  const OuOrderSearchResult exact = ou_order_search(ou_pair_costs(x, 1e-6), start, 100);
  // The exact search sees every pair, the sparse one only the lists; both
  // are local optima (measured: costs 0.02% apart, 97.8% vs 97.9% grid links).
  EXPECT_LT(sparse.cost, 0.99 * exact.cost) << "sparse " << sparse.cost << " exact " << exact.cost;
  const OuChainLayout layout = ou_chain_layout(anchors_of(sparse.order), {1, h, w});
  EXPECT_GT(layout.grid_fraction(), 0.95) << layout.grid_links << " of " << layout.links;
}

TEST(OuOrderSearchSparse, NeverRaisesTheCostOfAGoodStart) {
  const std::int64_t h = 30, w = 30, n = h * w;
  const OuPoints p = ou_points(smooth_field(40, h, w, 41));
  std::vector<std::int64_t> serpentine;
  for (std::int64_t i = 0; i < h; ++i)
    for (std::int64_t j = 0; j < w; ++j) serpentine.push_back(i * w + (i % 2 ? w - 1 - j : j));
  const OuOrderSearchResult r = ou_order_search_sparse(p, serpentine, {}, 1e-6);
  EXPECT_LE(r.cost, r.start_cost);
  EXPECT_EQ(static_cast<std::int64_t>(r.order.size()), n);
}

TEST(OuOrderSearchSparse, DoesNotDependOnTheThreadCount) {
  // Above the 2^15 points below which its passes run on one thread.
  const std::int64_t n = 40000;
  const OuPoints p = ou_points(planted_chain(shuffled(n, 51), 32, 0.85, 52));
  const int threads = omp_get_max_threads();
  omp_set_num_threads(1);
  const OuOrderSearchResult one = ou_order_search_sparse(p, shuffled(n, 53), {}, 1e-6);
  omp_set_num_threads(std::max(threads, 2));
  const OuOrderSearchResult many = ou_order_search_sparse(p, shuffled(n, 53), {}, 1e-6);
  omp_set_num_threads(threads);
  EXPECT_EQ(one.order, many.order);
}

TEST(OuOrderSearchSparse, ModelSearchesAboveTheExactLimitAndKeepsTheAnchorValues) {
  const std::int64_t n = kOuOrderSearchMaxDims + 808;
  const auto chain = shuffled(n, 61);
  const Tensor x = planted_chain(chain, 48, 0.9, 62);
  LaplexOuOptions o;
  o.dims = n;
  o.anchors = "random";
  LaplexOu model(o, 63);
  auto before = model.t.to_vector<float>();
  const OuOrderSearchResult r = model.search_anchor_order(x, 100);
  EXPECT_LT(r.cost, r.start_cost);
  auto after = model.t.to_vector<float>();
  std::sort(before.begin(), before.end());
  std::vector<float> sorted_after = after;
  std::sort(sorted_after.begin(), sorted_after.end());
  EXPECT_EQ(before, sorted_after);
  std::vector<std::int64_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](auto a, auto b) { return after[a] < after[b]; });
  EXPECT_EQ(order, r.order);
  EXPECT_GT(links_found(order, chain), 0.99);
}

}  // namespace laplex::testing
