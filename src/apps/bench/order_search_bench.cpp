// laplex-bench order-search: the LAPLEX-OU anchor order search
// (ou_order_search.h, ou_order_search_sparse.h) from a random order on
// `--rows` images of a smooth random field (white noise blurred twice by a
// 5 x 5 box) of n pixels, the grid h x w with h the largest divisor of n
// not above sqrt(n). Up to kOuOrderSearchMaxDims the exact search runs too,
// as the peer of the sparse one in the same run. Each row: the search, its
// time (median of --repeats) and, for the sparse one, its phases; the path
// cost before and after (nats per image, lower is better); the fraction of
// chain links between pixels that touch on the grid (what a layout-learning
// search is for: a random order has about 4 / n); the peak memory of one
// search in bytes per dimension above what was resident before it.
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <memory>
#include <numeric>
#include <random>
#include <string>

#include "apps/bench/bench.h"
#include "apps/bench/peak_memory.h"
#include "core/error.h"
#include "layers/covariance/ou_chain_layout.h"
#include "layers/covariance/ou_order_search.h"
#include "layers/covariance/ou_order_search_sparse.h"
#include "layers/covariance/ou_params.h"

namespace laplex::bench {

namespace {

struct OrderSearchBenchOptions {
  std::vector<std::int64_t> n{784, 8192, 100000, 3000000};
  std::int64_t rows = 64;
  std::vector<std::string> searches{"exact", "sparse"};
  int repeats = 1;
  bool json = false;
};

struct Grid {
  std::int64_t h, w;
};

Grid grid_of(std::int64_t n) {
  std::int64_t h = static_cast<std::int64_t>(std::sqrt(static_cast<double>(n)));
  while (n % h != 0) --h;
  return {h, n / h};
}

// rows x (h w) float32, each row white noise blurred twice by a 5 x 5 box
// (clamped at the edges): correlations fall with the distance on the grid.
Tensor smooth_field(std::int64_t rows, Grid g, std::uint64_t seed) {
  const std::int64_t n = g.h * g.w;
  Tensor x = Tensor::empty({rows, n});
  float* data = x.data<float>();
#pragma omp parallel
  {
    std::vector<float> tmp(static_cast<std::size_t>(n));
#pragma omp for schedule(dynamic)
    for (std::int64_t r = 0; r < rows; ++r) {
      std::mt19937_64 rng(seed + static_cast<std::uint64_t>(r));
      std::normal_distribution<float> normal;
      float* img = data + r * n;
      for (std::int64_t p = 0; p < n; ++p) img[p] = normal(rng);
      for (int pass = 0; pass < 4; ++pass) {  // rows, columns, rows, columns
        const bool along_rows = pass % 2 == 0;
        for (std::int64_t i = 0; i < g.h; ++i)
          for (std::int64_t j = 0; j < g.w; ++j) {
            float s = 0;
            for (std::int64_t d = -2; d <= 2; ++d) {
              const std::int64_t ii = along_rows ? i : std::clamp<std::int64_t>(i + d, 0, g.h - 1);
              const std::int64_t jj = along_rows ? std::clamp<std::int64_t>(j + d, 0, g.w - 1) : j;
              s += img[ii * g.w + jj];
            }
            tmp[i * g.w + j] = s / 5;
          }
        std::copy(tmp.begin(), tmp.end(), img);
      }
    }
  }
  return x;
}

nlohmann::json measure(const OrderSearchBenchOptions& o, const std::string& search, std::int64_t n,
                       const Tensor& x, Grid g) {
  nlohmann::json row{{"search", search},
                     {"n", n},
                     {"rows", o.rows},
                     {"grid", std::to_string(g.h) + "x" + std::to_string(g.w)}};
  if (search == "exact" && n > kOuOrderSearchMaxDims) {
    row["note"] = "n > " + std::to_string(kOuOrderSearchMaxDims);
    return row;
  }
  std::vector<std::int64_t> start(static_cast<std::size_t>(n));
  std::iota(start.begin(), start.end(), 0);
  std::shuffle(start.begin(), start.end(), std::mt19937_64(5));
  OuOrderSearchResult result;
  auto once = [&] {
    if (search == "exact")
      result = ou_order_search(ou_pair_costs(x, kOuDefaultEps), start, kOuOrderSearchMaxSweeps);
    else
      result = ou_order_search_sparse(ou_points(x), start, {}, kOuDefaultEps);
  };
  // The first search also measures the memory: at 3·10^6 pixels a search
  // takes minutes, so it is not run again just for the timing.
  std::vector<double> ms;
  auto timed = [&] {
    const auto begin = std::chrono::steady_clock::now();
    once();
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - begin).count());
  };
  const std::int64_t peak = peak_rss_above_current(timed);
  for (int r = 1; r < o.repeats; ++r) timed();
  std::sort(ms.begin(), ms.end());
  row["ms"] = ms[ms.size() / 2];
  std::vector<float> t(static_cast<std::size_t>(n));
  for (std::int64_t k = 0; k < n; ++k) t[result.order[k]] = static_cast<float>(k);
  const OuChainLayout layout = ou_chain_layout(t, {1, g.h, g.w});
  row["start_cost"] = result.start_cost;
  row["cost"] = result.cost;
  row["grid_links"] = layout.grid_fraction();
  row["phases"] = result.phases;
  row["peak_B_per_dim"] = peak < 0 ? nlohmann::json(nullptr)
                                   : nlohmann::json(static_cast<double>(peak) / static_cast<double>(n));
  return row;
}

// Peak bytes of a row: the field (rows x n floats, and a row per thread
// while it is made), the start order and the anchors, and the larger
// search: the sparse one holds the points (rows rounded up to 8) and up to
// 512 bytes per dimension of lists and path (337-381 measured at 2 to 64
// rows); the exact one about 24 n^2 bytes of pair costs (measured at
// n = 8192), counted as 32.
double row_bytes(const OrderSearchBenchOptions& o, std::int64_t dims) {
  const double n = static_cast<double>(dims), rows = static_cast<double>(o.rows);
  const double field = 4.0 * rows * n + 4.0 * omp_get_max_threads() * n + 16.0 * n;
  double search = 0;
  for (const auto& s : o.searches)
    if (s == "sparse")
      search = std::max(search, n * (4.0 * static_cast<double>((o.rows + 7) / 8 * 8) + 512));
    else if (dims <= kOuOrderSearchMaxDims)
      search = std::max(search, 32.0 * n * n + 8.0 * rows * n);
  return field + search;
}

// Every flag is checked before the first row: rows print as they are
// measured (--json), and a bad value after them left a half-written run.
// A size that cannot fit is refused too: n = 2^29 at 2 rows grew past
// 8.5 GB on its way to about 300.
void check_options(const OrderSearchBenchOptions& o) {
  if (o.rows < 2) throw UsageError("--rows: must be >= 2");
  if (o.repeats < 1) throw UsageError("--repeats: must be >= 1");
  for (const auto& s : o.searches)
    if (s != "exact" && s != "sparse") throw UsageError("--searches: unknown search " + s + " (exact, sparse)");
  for (const std::int64_t n : o.n) {
    if (n < 4) throw UsageError("--n: sizes must be >= 4, got " + std::to_string(n));
    if (n > kOuOrderSearchMaxValues / o.rows)
      throw UsageError("--n: " + std::to_string(n) + " x --rows " + std::to_string(o.rows) +
                       " values exceed the search's limit of " + std::to_string(kOuOrderSearchMaxValues));
    if (!fits_in_memory(row_bytes(o, n)))
      throw UsageError("--n: " + std::to_string(n) + " pixels at --rows " + std::to_string(o.rows) +
                       " need " + memory_need_text(row_bytes(o, n)));
  }
}

int run(const OrderSearchBenchOptions& o) {
  check_options(o);
  std::vector<nlohmann::json> rows;
  for (const std::int64_t n : o.n) {
    const Grid g = grid_of(n);
    const Tensor x = smooth_field(o.rows, g, 11);
    for (const auto& search : o.searches) {
      rows.push_back(measure(o, search, n, x, g));
      if (o.json) print_rows({rows.back()}, {}, true);
      std::fflush(stdout);
    }
  }
  if (!o.json)
    print_rows(rows, {"search", "n", "rows", "grid", "ms", "start_cost", "cost", "grid_links",
                      "peak_B_per_dim", "phases", "note"},
               false);
  return 0;
}

const BenchRegistration registration(
    "order-search", "laplex_ou anchor order search from a random order: time, path cost, grid links, memory",
    [](CLI::App& cmd) -> std::function<int()> {
      auto o = std::make_shared<OrderSearchBenchOptions>();
      add_list_option(cmd, "--n", o->n,
                      "pixels (several allowed, or comma-separated; default 784 8192 100000 3000000)");
      cmd.add_option("--rows", o->rows, "images the search reads (default 64)");
      add_list_option(cmd, "--searches", o->searches,
                      "subset of exact sparse (exact only up to 8192)");
      cmd.add_option("--repeats", o->repeats, "timed searches (median reported; default 1)");
      cmd.add_flag("--json", o->json, "JSON Lines output");
      return [o] { return run(*o); };
    });

}  // namespace

}  // namespace laplex::bench
