// The CPU LAPLEX kernels against the float64 dense oracle (laplex-math.md
// section 5): outputs, the transposed apply, every gradient (analytic dense
// derivative and finite differences), the invariant, ties, far anchors,
// anchor order, shapes, frozen parameters.
#include <gtest/gtest.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <string>

#include "helpers/laplex_oracle.h"
#include "helpers/laplex_runner.h"
#include "helpers/vector_compare.h"
#include "layers/laplex/laplex_cpu.h"
#include "layers/laplex/laplex_dense.h"
#include "layers/laplex/laplex_lanes.h"

namespace laplex::testing {
namespace {


void expect_all_finite(const LaplexResult& r) {
  for (const auto* values : {&r.y, &r.transposed, &r.grads.dx, &r.grads.dt, &r.grads.ds,
                             &r.grads.du, &r.grads.dv, &r.grads.drho, &r.grads.domega,
                             &r.grads.dphi})
    for (double v : *values) ASSERT_TRUE(std::isfinite(v));
}

std::vector<double> transpose_apply(const LaplexProblem& p) {
  const auto w = oracle_dense(p);
  std::vector<double> out(p.batch * p.n, 0.0);
  for (std::int64_t b = 0; b < p.batch; ++b)
    for (std::int64_t i = 0; i < p.m; ++i)
      for (std::int64_t j = 0; j < p.n; ++j) out[b * p.n + j] += p.gy[b * p.m + i] * w[i * p.n + j];
  return out;
}

// Both backward paths: from the forward's saved rows (one head) and from x;
// and the saved path once more after forwards on 8- and 16-lane chunks,
// whose rows a wider backward reads as pieces (lanes::saved_backward_width).
struct Path {
  const char* name;
  bool saved;
  int lanes;
};
constexpr Path kPaths[] = {{"backward from the saved forward", true, 0},
                           {"backward from x", false, 0},
                           {"backward from an 8-lane saved forward", true, 8},
                           {"backward from a 16-lane saved forward", true, 16}};

LaplexWanted along(const Path& path) {
  LaplexWanted w;
  w.saved_forward = path.saved;
  w.lanes = path.lanes;
  return w;
}

void expect_matches_oracle(const LaplexProblem& p, double rtol = 1e-10) {
  for (const Path& path : kPaths) {
    SCOPED_TRACE(path.name);
    const LaplexResult r = run_laplex_cpu<double>(p, along(path));
    expect_all_finite(r);
    const LaplexGradients g = oracle_gradients(p);
    EXPECT_TRUE(vectors_close("y", r.y, oracle_forward(p), rtol));
    EXPECT_TRUE(vectors_close("W^T g", r.transposed, transpose_apply(p), rtol));
    EXPECT_TRUE(vectors_close("dx", r.grads.dx, g.dx, rtol));
    EXPECT_TRUE(vectors_close("dt", r.grads.dt, g.dt, rtol));
    EXPECT_TRUE(vectors_close("ds", r.grads.ds, g.ds, rtol));
    EXPECT_TRUE(vectors_close("du", r.grads.du, g.du, rtol));
    EXPECT_TRUE(vectors_close("dv", r.grads.dv, g.dv, rtol));
    EXPECT_TRUE(vectors_close("drho", r.grads.drho, g.drho, rtol));
    EXPECT_TRUE(vectors_close("domega", r.grads.domega, g.domega, rtol));
    EXPECT_TRUE(vectors_close("dphi", r.grads.dphi, g.dphi, rtol));
  }
}

void expect_matches_finite_differences(const LaplexProblem& p) {
  const LaplexGradients fd = oracle_finite_differences(p);
  for (const Path& path : kPaths) {
    SCOPED_TRACE(path.name);
    const LaplexResult r = run_laplex_cpu<double>(p, along(path));
    const double rtol = 1e-6, atol = 1e-8;
    EXPECT_TRUE(vectors_close("dx", r.grads.dx, fd.dx, rtol, atol));
    EXPECT_TRUE(vectors_close("dt", r.grads.dt, fd.dt, rtol, atol));
    EXPECT_TRUE(vectors_close("ds", r.grads.ds, fd.ds, rtol, atol));
    EXPECT_TRUE(vectors_close("du", r.grads.du, fd.du, rtol, atol));
    EXPECT_TRUE(vectors_close("dv", r.grads.dv, fd.dv, rtol, atol));
    EXPECT_TRUE(vectors_close("drho", r.grads.drho, fd.drho, rtol, atol));
    EXPECT_TRUE(vectors_close("domega", r.grads.domega, fd.domega, rtol, atol));
    EXPECT_TRUE(vectors_close("dphi", r.grads.dphi, fd.dphi, rtol, atol));
  }
}

struct Case {
  const char* name;
  std::int64_t batch, m, n, heads;
  bool phased, gains;
};

const Case kCases[] = {
    {"single", 1, 1, 1, 1, false, false},
    {"square_unphased", 2, 8, 8, 1, false, true},
    {"square_phased", 2, 8, 8, 1, true, true},
    {"wide_heads", 3, 5, 17, 3, true, true},
    {"tall_heads", 5, 19, 4, 2, false, true},
    {"no_gains_phased", 4, 12, 9, 2, true, false},
    {"no_gains_unphased", 4, 9, 12, 2, false, false},
    {"batch_many_chunks", 37, 11, 13, 2, true, true},  // several lane chunks, last one padded
    {"batch_16", 16, 10, 14, 2, true, true},  // two chunks of 8 lanes
    {"batch_64", 64, 16, 16, 1, false, true},
};

class LaplexCpuCase : public ::testing::TestWithParam<Case> {};

TEST_P(LaplexCpuCase, MatchesDenseOracle) {
  const Case& c = GetParam();
  expect_matches_oracle(random_laplex_problem(c.batch, c.m, c.n, c.heads, c.phased, c.gains, 11));
}

TEST_P(LaplexCpuCase, MatchesFiniteDifferences) {
  const Case& c = GetParam();
  if (c.batch * c.m * c.n * c.heads > 20000) GTEST_SKIP() << "covered by the oracle test";
  expect_matches_finite_differences(
      random_laplex_problem(c.batch, c.m, c.n, c.heads, c.phased, c.gains, 12));
}

// sum t dt + sum s ds == alpha dalpha + omega domega, per head.
TEST_P(LaplexCpuCase, ScaleInvariant) {
  const Case& c = GetParam();
  const LaplexProblem p = random_laplex_problem(c.batch, c.m, c.n, c.heads, c.phased, c.gains, 13);
  for (const Path& path : kPaths) {
    const LaplexResult r = run_laplex_cpu<double>(p, along(path));
    for (std::int64_t h = 0; h < p.heads; ++h) {
      double lhs = 0, scale = 0;
      for (std::int64_t i = 0; i < p.m; ++i) {
        lhs += p.t[h * p.m + i] * r.grads.dt[h * p.m + i];
        scale += std::fabs(p.t[h * p.m + i] * r.grads.dt[h * p.m + i]);
      }
      for (std::int64_t j = 0; j < p.n; ++j) {
        lhs += p.s[h * p.n + j] * r.grads.ds[h * p.n + j];
        scale += std::fabs(p.s[h * p.n + j] * r.grads.ds[h * p.n + j]);
      }
      const double alpha = std::log1p(std::exp(p.rho[h]));
      const double dalpha = r.grads.drho[h] * (1.0 + std::exp(-p.rho[h]));
      const double rhs = alpha * dalpha + (p.phased ? p.omega[h] * r.grads.domega[h] : 0.0);
      EXPECT_NEAR(lhs, rhs, 1e-10 * (scale + 1)) << "head " << h << ", " << path.name;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Shapes, LaplexCpuCase, ::testing::ValuesIn(kCases),
                         [](const auto& info) { return std::string(info.param.name); });

// Anchors on a coarse integer grid: many exact ties between targets and
// sources (and within each side). Section 3 takes the d >= 0 side.
LaplexProblem tied_problem(bool phased, std::uint64_t seed) {
  LaplexProblem p = random_laplex_problem(3, 10, 12, 2, phased, true, seed);
  for (auto* anchors : {&p.t, &p.s})
    for (double& a : *anchors) a = std::round(a);
  // And one exact t = s diagonal in head 1.
  for (std::int64_t k = 0; k < 10; ++k) p.s[12 + k] = p.t[10 + k];
  // -0 and +0 are the same position.
  p.t[0] = -0.0;
  p.s[0] = 0.0;
  p.s[1] = -0.0;
  return p;
}

// One head (the path from the saved forward): ties and an exact t = s
// diagonal in the same head.
LaplexProblem tied_one_head(bool phased, std::uint64_t seed) {
  LaplexProblem p = random_laplex_problem(3, 10, 12, 1, phased, true, seed);
  for (auto* anchors : {&p.t, &p.s})
    for (double& a : *anchors) a = std::round(a);
  for (std::int64_t k = 0; k < 5; ++k) p.s[k] = p.t[k];
  p.t[6] = -0.0;
  p.s[7] = 0.0;
  return p;
}

TEST(LaplexCpu, TiesMatchOracleUnphased) { expect_matches_oracle(tied_problem(false, 21)); }
TEST(LaplexCpu, TiesMatchOracleOneHead) {
  expect_matches_oracle(tied_one_head(false, 23));
  expect_matches_oracle(tied_one_head(true, 24));
}
TEST(LaplexCpu, TiesMatchOraclePhased) { expect_matches_oracle(tied_problem(true, 22)); }
TEST(LaplexCpu, TiesMatchOneSidedDifferences) {
  expect_matches_finite_differences(tied_problem(false, 23));
  expect_matches_finite_differences(tied_problem(true, 24));
}

// Anchors 1000 apart with alpha ~ 1: every cross term underflows to 0.
TEST(LaplexCpu, FarAnchorsUnderflowToZero) {
  for (bool phased : {false, true}) {
    LaplexProblem p = random_laplex_problem(2, 6, 7, 2, phased, true, 31);
    for (std::size_t k = 0; k < p.t.size(); ++k) p.t[k] = 1000.0 * static_cast<double>(k);
    for (std::size_t k = 0; k < p.s.size(); ++k) p.s[k] = 1000.0 * static_cast<double>(k) + 0.5;
    expect_matches_oracle(p);
  }
}

// Gaps near the top of the float range: exp underflows and gap * exp must
// stay 0 (not 0 * inf) in both precisions.
TEST(LaplexCpu, HugeGapsGiveNoNanOrInf) {
  for (bool phased : {false, true}) {
    LaplexProblem p = random_laplex_problem(2, 4, 4, 1, phased, true, 32);
    p.t = {-3e38, -1.0, 0.5, 3e38};
    p.s = {-2.9e38, 0.0, 2.9e38, 3.0e38};
    const LaplexResult rd = run_laplex_cpu<double>(p);
    expect_all_finite(rd);
    const LaplexResult rf = run_laplex_cpu<float>(p);
    expect_all_finite(rf);
    p.t = {-1e300, -1.0, 0.5, 1e300};
    p.s = {-1e299, 0.0, 1e299, 1e300};
    expect_matches_oracle(p);
    // Neighbours 6e38 apart: in float32 the gap itself is inf (a phased
    // decay took cos(inf) = NaN); the exact ties still couple.
    p.t = {-3e38, 3e38, 3e38, -3e38};
    p.s = {3e38, -3e38, 3e38, -3e38};
    const LaplexResult want = run_laplex_cpu<double>(p);
    const LaplexResult got = run_laplex_cpu<float>(p);
    expect_all_finite(got);
    EXPECT_TRUE(vectors_close("y", got.y, want.y, 1e-6));
    EXPECT_TRUE(vectors_close("dx", got.grads.dx, want.grads.dx, 1e-6));
    EXPECT_TRUE(vectors_close("dt", got.grads.dt, want.grads.dt, 1e-6));
    EXPECT_TRUE(vectors_close("ds", got.grads.ds, want.grads.ds, 1e-6));
    EXPECT_TRUE(vectors_close("drho", got.grads.drho, want.grads.drho, 1e-6));
    EXPECT_TRUE(vectors_close("dphi", got.grads.dphi, want.grads.dphi, 1e-6));
  }
}

TEST(LaplexCpu, AnyAnchorOrder) {
  const LaplexProblem base = random_laplex_problem(3, 9, 11, 2, true, true, 41);
  for (AnchorOrder order : {AnchorOrder::ascending, AnchorOrder::descending, AnchorOrder::rotated})
    expect_matches_oracle(with_anchor_order(base, order));
}

// Frozen parameters: null outputs are skipped and leave the others exact.
TEST(LaplexCpu, FrozenParametersSkipTheirWork) {
  const LaplexProblem p = random_laplex_problem(4, 7, 9, 2, true, true, 51);
  const LaplexGradients g = oracle_gradients(p);
  const std::vector<LaplexWanted> subsets = {
      {true, false, false, false, false, false, false, false},  // dx only: W^T g
      {false, true, false, false, false, false, false, false},  // dt only
      {false, false, true, false, true, false, false, false},   // column grads
      {false, false, false, false, false, true, true, false},   // moments only
      {false, false, false, true, false, false, false, true},   // du, dphi
  };
  for (const LaplexWanted& w : subsets) {
    const LaplexResult r = run_laplex_cpu<double>(p, w);
    if (w.dx) EXPECT_TRUE(vectors_close("dx", r.grads.dx, g.dx, 1e-10));
    if (w.dt) EXPECT_TRUE(vectors_close("dt", r.grads.dt, g.dt, 1e-10));
    if (w.ds) EXPECT_TRUE(vectors_close("ds", r.grads.ds, g.ds, 1e-10));
    if (w.du) EXPECT_TRUE(vectors_close("du", r.grads.du, g.du, 1e-10));
    if (w.dv) EXPECT_TRUE(vectors_close("dv", r.grads.dv, g.dv, 1e-10));
    if (w.drho) EXPECT_TRUE(vectors_close("drho", r.grads.drho, g.drho, 1e-10));
    if (w.domega) EXPECT_TRUE(vectors_close("domega", r.grads.domega, g.domega, 1e-10));
    if (w.dphi) EXPECT_TRUE(vectors_close("dphi", r.grads.dphi, g.dphi, 1e-10));
  }
}

TEST(LaplexCpu, UnphasedIgnoresOmegaAndPhi) {
  LaplexProblem p = random_laplex_problem(2, 5, 6, 2, false, true, 61);
  const LaplexResult a = run_laplex_cpu<double>(p);
  p.omega = {7.0, -3.0};
  p.phi = {1.0, 2.0};
  const LaplexResult b = run_laplex_cpu<double>(p);
  EXPECT_EQ(a.y, b.y);
  EXPECT_EQ(b.grads.domega, std::vector<double>(2, 0.0));
  EXPECT_EQ(b.grads.dphi, std::vector<double>(2, 0.0));
}

TEST(LaplexCpu, ToDenseMatchesOracle) {
  for (bool phased : {false, true})
    for (bool gains : {false, true}) {
      const LaplexProblem p = random_laplex_problem(1, 6, 9, 3, phased, gains, 71);
      LaplexShape shape{1, p.m, p.n, p.heads, p.phased};
      LaplexParamPtrs<double> params{p.t.data(),   p.s.data(),
                                     gains ? p.u.data() : nullptr, gains ? p.v.data() : nullptr,
                                     p.rho.data(), p.omega.data(), p.phi.data()};
      std::vector<double> w(p.m * p.n);
      cpu::laplex_to_dense(shape, params, w.data());
      EXPECT_TRUE(vectors_close("W", w, oracle_dense(p), 1e-14));
    }
}

TEST(LaplexCpu, FloatMatchesDoubleOracle) {
  for (bool phased : {false, true}) {
    const LaplexProblem p = random_laplex_problem(5, 40, 50, 2, phased, true, 81);
    const LaplexResult r = run_laplex_cpu<float>(p);
    const LaplexGradients g = oracle_gradients(p);
    EXPECT_TRUE(vectors_close("y", r.y, oracle_forward(p), 1e-5));
    EXPECT_TRUE(vectors_close("dx", r.grads.dx, g.dx, 1e-5));
    EXPECT_TRUE(vectors_close("dt", r.grads.dt, g.dt, 1e-5));
    EXPECT_TRUE(vectors_close("ds", r.grads.ds, g.ds, 1e-5));
    EXPECT_TRUE(vectors_close("drho", r.grads.drho, g.drho, 1e-5));
  }
}

// Big enough for the threaded path: several chunks on several threads.
TEST(LaplexCpu, ThreadedChunksMatchOracle) {
  expect_matches_oracle(random_laplex_problem(70, 300, 400, 2, true, true, 85, 30.0), 1e-9);
  expect_matches_oracle(random_laplex_problem(64, 500, 300, 1, false, false, 86, 30.0), 1e-9);
  // One head, several chunks a thread, the last one padded.
  expect_matches_oracle(random_laplex_problem(70, 300, 400, 1, true, true, 87, 30.0), 1e-9);
}

// Thousands of events: the forward and the transposed apply run in blocks
// of 2048 events (laplex_blocks.h), each starting from the state the later
// blocks leave. Blocks with outputs and inputs mixed, nearly all outputs
// (m >> n) and nearly all inputs; two heads (the second adds to the
// first's outputs); random and sorted anchor order. Then the gradients of
// one phased head from the saved forward: the backward reads the blocked
// forward's rows.
TEST(LaplexCpu, ManyEventBlocksMatchOracle) {
  struct Sizes {
    std::int64_t batch, m, n;
  };
  for (const Sizes z : {Sizes{3, 2300, 1900}, Sizes{1, 4200, 300}, Sizes{1, 200, 4300}})
    for (bool phased : {false, true}) {
      SCOPED_TRACE("m " + std::to_string(z.m) + ", n " + std::to_string(z.n) +
                   (phased ? ", phased" : ""));
      LaplexProblem p = random_laplex_problem(z.batch, z.m, z.n, 2, phased, true, 97, 300.0);
      for (int order = 0; order < 2; ++order) {
        if (order == 1) {  // head 0's anchors in index order
          std::sort(p.s.begin(), p.s.begin() + p.n);
          std::sort(p.t.begin(), p.t.begin() + p.m);
        }
        // One dense W for both products (the oracle's cost).
        const std::vector<double> w = oracle_dense(p);
        std::vector<double> y(p.batch * p.m, 0.0), wtg(p.batch * p.n, 0.0);
        for (std::int64_t b = 0; b < p.batch; ++b)
          for (std::int64_t i = 0; i < p.m; ++i)
            for (std::int64_t j = 0; j < p.n; ++j) {
              y[b * p.m + i] += w[i * p.n + j] * p.x[b * p.n + j];
              wtg[b * p.n + j] += w[i * p.n + j] * p.gy[b * p.m + i];
            }
        // 16 lanes: rows of whole lines, which the scatter streams.
        for (int lanes : {0, 16}) {
          LaplexWanted wanted;
          wanted.lanes = lanes;
          const LaplexResult r = run_laplex_cpu<double>(p, wanted);
          EXPECT_TRUE(vectors_close("y", r.y, y, 1e-9)) << "lanes " << lanes;
          if (lanes == 0) EXPECT_TRUE(vectors_close("W^T g", r.transposed, wtg, 1e-9));
        }
      }
    }
  // The gradients from the saved forward (the training path), once.
  const LaplexProblem p = random_laplex_problem(1, 2200, 2000, 1, true, true, 98, 300.0);
  const LaplexResult r = run_laplex_cpu<double>(p);
  const LaplexGradients g = oracle_gradients(p);
  EXPECT_TRUE(vectors_close("dx", r.grads.dx, g.dx, 1e-9));
  EXPECT_TRUE(vectors_close("dt", r.grads.dt, g.dt, 1e-9));
  EXPECT_TRUE(vectors_close("ds", r.grads.ds, g.ds, 1e-9));
  EXPECT_TRUE(vectors_close("du", r.grads.du, g.du, 1e-9));
  EXPECT_TRUE(vectors_close("dv", r.grads.dv, g.dv, 1e-9));
  EXPECT_TRUE(vectors_close("drho", r.grads.drho, g.drho, 1e-9));
  EXPECT_TRUE(vectors_close("domega", r.grads.domega, g.domega, 1e-9));
  EXPECT_TRUE(vectors_close("dphi", r.grads.dphi, g.dphi, 1e-9));
}

// Past 2^16 events the forward's input blocks are built on several threads
// (lanes::kParallelEventPass), too many events for the dense oracle. The
// plain backward's dx (its own scans, not blocked) is W^T g, so it checks
// the blocked transposed apply, and <g, W x> = <W^T g, x> checks the
// blocked forward.
TEST(LaplexCpu, BlocksAgreeWithThePlainBackwardAtScale) {
  for (bool phased : {false, true}) {
    SCOPED_TRACE(phased ? "phased" : "unphased");
    const LaplexProblem p = random_laplex_problem(3, 41000, 39000, 1, phased, true, 99, 4000.0);
    LaplexWanted plain;
    plain.saved_forward = false;
    const LaplexResult r = run_laplex_cpu<double>(p, plain);
    EXPECT_TRUE(vectors_close("W^T g", r.transposed, r.grads.dx, 1e-9));
    double forward = 0, transposed = 0, scale = 0;
    for (std::size_t k = 0; k < r.y.size(); ++k) {
      forward += p.gy[k] * r.y[k];
      scale += std::fabs(p.gy[k] * r.y[k]);
    }
    for (std::size_t k = 0; k < p.x.size(); ++k) transposed += p.x[k] * r.grads.dx[k];
    EXPECT_NEAR(forward, transposed, 1e-10 * scale);
  }
}

// A forward on 8-lane chunks read by a backward on 32 (B = 64: four rows
// make one) and on 16 (B = 20 on two threads: three forward chunks and a
// zero one, two of each backward row); a forward on 16-lane chunks read by
// one on 32 (B = 64: two rows make one; B = 40: three forward chunks and a
// zero one). Against the oracle, and bit for bit against a forward on the
// backward's own chunks.
TEST(LaplexCpu, NarrowSavedForwardFeedsAWiderBackward) {
  const int threads = omp_get_max_threads();
  omp_set_num_threads(2);
  struct Case {
    std::int64_t batch;
    int forward_lanes, backward_lanes;
  };
  for (const Case c : {Case{64, 8, 32}, Case{20, 8, 16}, Case{64, 16, 32}, Case{40, 16, 32}}) {
    for (bool phased : {false, true}) {
      SCOPED_TRACE("batch " + std::to_string(c.batch) + ", forward lanes " +
                   std::to_string(c.forward_lanes) + (phased ? ", phased" : ""));
      const LaplexProblem p = random_laplex_problem(c.batch, 45, 60, 1, phased, true, 95);
      EXPECT_EQ(cpu::lanes::saved_backward_width(c.batch, 2, c.forward_lanes), c.backward_lanes);
      expect_matches_oracle(p);  // its paths include the 8- and 16-lane saved forwards
      // Each lane's arithmetic does not depend on the chunk it sits in.
      LaplexWanted narrow, wide;
      narrow.lanes = c.forward_lanes;
      wide.lanes = c.backward_lanes;
      const LaplexResult r = run_laplex_cpu<double>(p, narrow);
      const LaplexResult w = run_laplex_cpu<double>(p, wide);
      EXPECT_EQ(r.y, w.y);
      EXPECT_EQ(r.grads.dx, w.grads.dx);
    }
  }
  omp_set_num_threads(threads);
}

TEST(LaplexCpu, BadLanesThrow) {
  LaplexShape shape{2, 3, 3, 1, false};
  const std::vector<double> t = {0, 1, 2}, rho = {0}, x(6);
  std::vector<double> y(6);
  const LaplexPlan<double> plan = make_laplex_plan(shape, t.data(), t.data());
  LaplexParamPtrs<double> params;
  params.t = params.s = t.data();
  params.rho = rho.data();
  EXPECT_THROW(cpu::laplex_forward(plan, shape, params, x.data(), y.data(),
                                   static_cast<cpu::LaplexSaved<double>*>(nullptr), 12),
               Error);
}

TEST(LaplexCpu, EmptySidesGiveZeros) {
  for (auto [m, n] : {std::pair<std::int64_t, std::int64_t>{0, 5}, {4, 0}}) {
    const LaplexProblem p = random_laplex_problem(3, m, n, 2, true, true, 91);
    const LaplexResult r = run_laplex_cpu<double>(p);
    for (double v : r.y) EXPECT_EQ(v, 0.0);
    for (double v : r.grads.dx) EXPECT_EQ(v, 0.0);
    for (double v : r.grads.drho) EXPECT_EQ(v, 0.0);
  }
}

TEST(LaplexCpu, BadInputThrows) {
  LaplexProblem p = random_laplex_problem(1, 3, 3, 1, false, false, 99);
  p.t[1] = NAN;
  EXPECT_THROW(run_laplex_cpu<double>(p), Error);
  LaplexShape shape{1, 3, 3, 1, false};
  const std::vector<double> t = {0, 1, 2}, rho = {0}, x(3), other(4);
  const LaplexPlan<double> plan = make_laplex_plan(shape, t.data(), t.data());
  LaplexParamPtrs<double> params{t.data(), t.data(), nullptr, nullptr, rho.data()};
  std::vector<double> y(4);
  LaplexShape wrong{1, 4, 3, 1, false};
  EXPECT_THROW(cpu::laplex_forward(plan, wrong, params, x.data(), y.data()), Error);
  LaplexShape phased{1, 3, 3, 1, true};
  EXPECT_THROW(cpu::laplex_forward(plan, phased, params, x.data(), y.data()), Error);
}

// laplex-bench sizes rows with laplex_cpu_bytes. At the largest sizes it
// accepts (batch 2^31, 2^20 heads, m = n = 2^31 - 1) the count is past 2^64
// and wrapped to a small number that would pass a memory check; it
// saturates, and grows with the batch.
TEST(LaplexCpu, BytesEstimateSaturatesInsteadOfWrapping) {
  const std::int64_t side = (std::int64_t{1} << 31) - 1;
  const LaplexShape largest{std::int64_t{1} << 31, side, side, std::int64_t{1} << 20, false};
  EXPECT_EQ(cpu::laplex_cpu_bytes(largest, 2, sizeof(float), true),
            std::numeric_limits<std::size_t>::max());
  const LaplexShape small{1, side, side, 1, false}, larger{64, side, side, 1, false};
  EXPECT_GT(cpu::laplex_cpu_bytes(larger, 2, sizeof(float), true),
            cpu::laplex_cpu_bytes(small, 2, sizeof(float), true));
}

}  // namespace
}  // namespace laplex::testing
