// The CUDA LAPLEX path (laplex-math.md section 5 on the GPU): outputs and
// every gradient against the float64 dense oracle (float64 on the device),
// ties, far anchors, any order, shapes, frozen parameters, the invariant,
// many chunks and row groups against the CPU kernels, float32 at n = 10^6,
// and the layer on the device. Skips without a GPU.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <type_traits>

#include "core/ops/elementwise.h"
#include "core/ops/reduce.h"
#include "helpers/device_twin.h"
#include "helpers/gradcheck.h"
#include "helpers/laplex_oracle.h"
#include "helpers/laplex_runner.h"
#include "helpers/vector_compare.h"
#include "layers/laplex/laplex_layer.h"
#include "layers/laplex/laplex_op.h"
#if LAPLEX_WITH_CUDA
#include "layers/laplex/cuda/laplex_cuda.h"
#endif

namespace laplex::testing {
namespace {

Tensor device_leaf(const std::vector<double>& values, const Shape& shape, DType dtype, bool grad) {
  if (values.empty()) return Tensor();
  Tensor t = Tensor::from_vector(values, shape).to(dtype).to(Device::cuda());
  t.set_requires_grad(grad);
  return t;
}

std::vector<double> host_values(const Tensor& t) {
  return t.defined() ? t.to(Device::cpu()).to_vector<double>() : std::vector<double>();
}

// The engine op on cuda:0; gradients of sum(gy * y) for what `wanted` asks.
LaplexResult run_laplex_cuda(const LaplexProblem& p, DType dtype, const LaplexWanted& wanted = {}) {
  Tensor x = device_leaf(p.x, {p.batch, p.n}, dtype, wanted.dx);
  LaplexParams params;
  params.t = device_leaf(p.t, {p.heads, p.m}, dtype, wanted.dt);
  params.s = device_leaf(p.s, {p.heads, p.n}, dtype, wanted.ds);
  params.u = device_leaf(p.u, {p.heads, p.m}, dtype, wanted.du);
  params.v = device_leaf(p.v, {p.heads, p.n}, dtype, wanted.dv);
  params.rho = device_leaf(p.rho, {p.heads}, dtype, wanted.drho);
  if (p.phased) {
    params.omega = device_leaf(p.omega, {p.heads}, dtype, wanted.domega);
    params.phi = device_leaf(p.phi, {p.heads}, dtype, wanted.dphi);
  }
  const Tensor y = laplex_apply(x, params, {p.phased});
  LaplexResult r;
  r.y = host_values(y);
  if (y.requires_grad()) {
    sum(mul(y, device_leaf(p.gy, {p.batch, p.m}, dtype, false))).backward();
    auto grad = [](const Tensor& t) { return t.defined() ? host_values(t.grad()) : std::vector<double>(); };
    r.grads = {grad(x),          grad(params.t),     grad(params.s),
               grad(params.u),   grad(params.v),     grad(params.rho),
               grad(params.omega), grad(params.phi)};
  }
  return r;
}


void expect_same(const LaplexResult& r, const std::vector<double>& y, const LaplexGradients& g,
                 bool phased, double rtol) {
  EXPECT_TRUE(vectors_close("y", r.y, y, rtol));
  EXPECT_TRUE(vectors_close("dx", r.grads.dx, g.dx, rtol));
  EXPECT_TRUE(vectors_close("dt", r.grads.dt, g.dt, rtol));
  EXPECT_TRUE(vectors_close("ds", r.grads.ds, g.ds, rtol));
  EXPECT_TRUE(vectors_close("du", r.grads.du, g.du, rtol));
  EXPECT_TRUE(vectors_close("dv", r.grads.dv, g.dv, rtol));
  EXPECT_TRUE(vectors_close("drho", r.grads.drho, g.drho, rtol));
  if (phased) {
    EXPECT_TRUE(vectors_close("domega", r.grads.domega, g.domega, rtol));
    EXPECT_TRUE(vectors_close("dphi", r.grads.dphi, g.dphi, rtol));
  }
}

void expect_matches_oracle(const LaplexProblem& p, double rtol = 1e-10) {
  const LaplexResult r = run_laplex_cuda(p, DType::f64);
  expect_same(r, oracle_forward(p), oracle_gradients(p), p.phased, rtol);
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
    {"batch_37", 37, 11, 13, 2, true, true},
    {"batch_64", 64, 16, 16, 1, false, true},
};

class LaplexCudaCase : public ::testing::TestWithParam<Case> {};

TEST_P(LaplexCudaCase, MatchesDenseOracle) {
  LAPLEX_REQUIRE_GPU();
  const Case c = GetParam();
  expect_matches_oracle(random_laplex_problem(c.batch, c.m, c.n, c.heads, c.phased, c.gains, 7));
}

TEST_P(LaplexCudaCase, MatchesFiniteDifferences) {
  LAPLEX_REQUIRE_GPU();
  const Case c = GetParam();
  if (c.batch * c.m * c.n * c.heads > 20000) GTEST_SKIP() << "covered by the oracle test";
  const LaplexProblem p = random_laplex_problem(c.batch, c.m, c.n, c.heads, c.phased, c.gains, 8);
  const LaplexResult r = run_laplex_cuda(p, DType::f64);
  const LaplexGradients fd = oracle_finite_differences(p);
  const double rtol = 1e-6, atol = 1e-8;
  EXPECT_TRUE(vectors_close("dx", r.grads.dx, fd.dx, rtol, atol));
  EXPECT_TRUE(vectors_close("dt", r.grads.dt, fd.dt, rtol, atol));
  EXPECT_TRUE(vectors_close("ds", r.grads.ds, fd.ds, rtol, atol));
  EXPECT_TRUE(vectors_close("drho", r.grads.drho, fd.drho, rtol, atol));
  if (c.gains) EXPECT_TRUE(vectors_close("du", r.grads.du, fd.du, rtol, atol));
  if (c.phased) {
    EXPECT_TRUE(vectors_close("domega", r.grads.domega, fd.domega, rtol, atol));
    EXPECT_TRUE(vectors_close("dphi", r.grads.dphi, fd.dphi, rtol, atol));
  }
}

INSTANTIATE_TEST_SUITE_P(Shapes, LaplexCudaCase, ::testing::ValuesIn(kCases),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(LaplexCuda, TiesMatchOracle) {
  LAPLEX_REQUIRE_GPU();
  for (bool phased : {false, true}) {
    LaplexProblem p = random_laplex_problem(3, 10, 12, 2, phased, true, 21);
    for (auto* anchors : {&p.t, &p.s})
      for (double& a : *anchors) a = std::round(a);
    for (std::int64_t k = 0; k < 10; ++k) p.s[12 + k] = p.t[10 + k];
    p.t[0] = -0.0;
    p.s[0] = 0.0;
    p.s[1] = -0.0;
    expect_matches_oracle(p);
  }
}

TEST(LaplexCuda, FarAnchorsAndHugeGapsStayFinite) {
  LAPLEX_REQUIRE_GPU();
  for (bool phased : {false, true}) {
    LaplexProblem p = random_laplex_problem(2, 6, 7, 2, phased, true, 31);
    for (std::size_t k = 0; k < p.t.size(); ++k) p.t[k] = 1000.0 * static_cast<double>(k);
    for (std::size_t k = 0; k < p.s.size(); ++k) p.s[k] = 1000.0 * static_cast<double>(k) + 0.5;
    expect_matches_oracle(p);
    LaplexProblem q = random_laplex_problem(2, 4, 4, 1, phased, true, 32);
    q.t = {-3e38, -1.0, 0.5, 3e38};
    q.s = {-2.9e38, 0.0, 2.9e38, 3.0e38};
    const LaplexResult r = run_laplex_cuda(q, DType::f32);
    for (const auto* values : {&r.y, &r.grads.dx, &r.grads.dt, &r.grads.ds, &r.grads.du,
                               &r.grads.dv, &r.grads.drho, &r.grads.domega, &r.grads.dphi})
      for (double v : *values) ASSERT_TRUE(std::isfinite(v));
  }
}

// Anchors spread over [-3e38, 3e38] in float32: the distances a chunk or a
// carry sums pass the float range (inf), and one gap is inf itself. Each
// cross term underflows to 0; the exact ties still couple. The lane path
// (batch 16, two chunks of events) and the event-parallel one (batch 2,
// thousands of events) against the CPU in float32.
TEST(LaplexCuda, AnchorsSpanningTheFloatRangeGiveTheCpuResult) {
  LAPLEX_REQUIRE_GPU();
  for (bool phased : {false, true})
    for (const auto& [batch, side] : {std::pair<std::int64_t, std::int64_t>{16, 64}, {2, 1500}})
      for (bool two_ends : {false, true}) {
        LaplexProblem p = random_laplex_problem(batch, side, side, 1, phased, true, 33);
        for (std::int64_t k = 0; k < side; ++k) {
          // Evenly spread (gaps near 1e37, their sums inf), or every anchor
          // at one of the two ends (the one gap between them inf).
          p.t[k] = two_ends ? (k % 2 ? 3e38 : -3e38)
                            : -3e38 + 6e38 * static_cast<double>(k) / static_cast<double>(side - 1);
          p.s[side - 1 - k] = p.t[k];
        }
        SCOPED_TRACE(std::string(phased ? "phased" : "unphased") + ", batch " +
                     std::to_string(batch) + (two_ends ? ", two ends" : ", spread"));
        const LaplexResult want = run_laplex_cpu<float>(p);
        const LaplexResult got = run_laplex_cuda(p, DType::f32);
        for (const auto* values : {&got.y, &got.grads.dx, &got.grads.dt, &got.grads.ds,
                                   &got.grads.du, &got.grads.dv, &got.grads.drho,
                                   &got.grads.domega, &got.grads.dphi})
          for (double v : *values) ASSERT_TRUE(std::isfinite(v));
        expect_same(got, want.y, want.grads, phased, 1e-5);
      }
}

TEST(LaplexCuda, AnyAnchorOrder) {
  LAPLEX_REQUIRE_GPU();
  const LaplexProblem base = random_laplex_problem(3, 9, 11, 2, true, true, 41);
  for (AnchorOrder order : {AnchorOrder::ascending, AnchorOrder::descending, AnchorOrder::rotated})
    expect_matches_oracle(with_anchor_order(base, order));
}

// Thousands of events (several chunks, carried across) and a batch that the
// launch splits into row groups, against the CPU kernels in float64.
TEST(LaplexCuda, ManyChunksAndRowGroupsMatchCpu) {
  LAPLEX_REQUIRE_GPU();
  for (bool phased : {false, true})
    for (std::int64_t batch : {1, 37}) {
      LaplexProblem p = random_laplex_problem(batch, 3000, 2500, 2, phased, true, 61, 300.0);
      if (batch == 1) std::sort(p.s.begin(), p.s.begin() + p.n);  // one head in index order
      const LaplexResult want = run_laplex_cpu<double>(p);
      const LaplexResult got = run_laplex_cuda(p, DType::f64);
      SCOPED_TRACE(std::string(phased ? "phased" : "unphased") + ", batch " +
                   std::to_string(batch));
      expect_same(got, want.y, want.grads, phased, 1e-10);
    }
}

// Frozen inputs: their gradients are not computed, the others stay exact.
TEST(LaplexCuda, FrozenParameters) {
  LAPLEX_REQUIRE_GPU();
  const LaplexProblem p = random_laplex_problem(4, 7, 9, 2, true, true, 51);
  const LaplexGradients g = oracle_gradients(p);
  LaplexWanted only_sources{};
  only_sources.dx = false;
  only_sources.dt = only_sources.du = only_sources.drho = false;
  only_sources.domega = only_sources.dphi = false;
  LaplexResult r = run_laplex_cuda(p, DType::f64, only_sources);
  EXPECT_TRUE(r.grads.dx.empty());
  EXPECT_TRUE(r.grads.dt.empty());
  EXPECT_TRUE(vectors_close("ds", r.grads.ds, g.ds, 1e-10));
  EXPECT_TRUE(vectors_close("dv", r.grads.dv, g.dv, 1e-10));
  LaplexWanted only_omega{};
  only_omega.dx = only_omega.dt = only_omega.ds = only_omega.du = only_omega.dv = false;
  only_omega.drho = only_omega.dphi = false;
  r = run_laplex_cuda(p, DType::f64, only_omega);
  EXPECT_TRUE(r.grads.drho.empty());
  EXPECT_TRUE(vectors_close("domega", r.grads.domega, g.domega, 1e-10));
  LaplexWanted only_x{};
  only_x.dt = only_x.ds = only_x.du = only_x.dv = only_x.drho = only_x.domega = only_x.dphi = false;
  r = run_laplex_cuda(p, DType::f64, only_x);
  EXPECT_TRUE(vectors_close("dx", r.grads.dx, g.dx, 1e-10));
}

// sum_i t_i dt_i + sum_j s_j ds_j == alpha dalpha + omega domega, per head.
TEST(LaplexCuda, ScaleInvariantHolds) {
  LAPLEX_REQUIRE_GPU();
  const LaplexProblem p = random_laplex_problem(3, 40, 30, 2, true, true, 71);
  const LaplexResult r = run_laplex_cuda(p, DType::f64);
  for (std::int64_t h = 0; h < p.heads; ++h) {
    double lhs = 0;
    for (std::int64_t i = 0; i < p.m; ++i) lhs += p.t[h * p.m + i] * r.grads.dt[h * p.m + i];
    for (std::int64_t j = 0; j < p.n; ++j) lhs += p.s[h * p.n + j] * r.grads.ds[h * p.n + j];
    const double rho = p.rho[h];
    const double alpha = std::log1p(std::exp(rho));
    const double dalpha = r.grads.drho[h] / (1.0 / (1.0 + std::exp(-rho)));
    const double rhs = alpha * dalpha + p.omega[h] * r.grads.domega[h];
    EXPECT_NEAR(lhs, rhs, 1e-9 * (1 + std::fabs(rhs))) << "head " << h;
  }
}

TEST(LaplexCuda, EmptyBatchAndNoSources) {
  LAPLEX_REQUIRE_GPU();
  const Device gpu = Device::cuda();
  LaplexParams params;
  params.t = Tensor::zeros({1, 4}, DType::f32, gpu);
  params.s = Tensor::zeros({1, 3}, DType::f32, gpu);
  params.rho = Tensor::zeros({1}, DType::f32, gpu);
  params.bias = Tensor::full({4}, 2.5, DType::f32, gpu);
  EXPECT_EQ(laplex_apply(Tensor::zeros({0, 3}, DType::f32, gpu), params).shape(), (Shape{0, 4}));
  // n = 0: y is the bias alone.
  params.s = Tensor::zeros({1, 0}, DType::f32, gpu);
  const std::vector<double> y = host_values(laplex_apply(Tensor::zeros({3, 0}, DType::f32, gpu), params));
  ASSERT_EQ(y.size(), 12u);
  for (double v : y) EXPECT_EQ(v, 2.5);
}

// Float32 on the GPU at n = m = 10^6 against float64 on the CPU, same
// float-rounded inputs: relative error <= 1e-4 (issue 3). Batch 2 runs the
// event-parallel kernels, batch 16 the lane kernels.
TEST(LaplexCuda, Float32AtMillionMatchesFloat64) {
  LAPLEX_REQUIRE_GPU();
  for (std::int64_t batch : {2, 16})
    for (bool phased : {false, true}) {
      const LaplexProblem p = million_anchor_problem(batch, phased);
      const LaplexResult single = run_laplex_cuda(p, DType::f32);
      const LaplexResult reference = run_laplex_cpu<double>(p);
      expect_float32_accurate("CUDA n = 10^6, batch " + std::to_string(batch) + ", " +
                                  (phased ? "phased" : "unphased"),
                              single, reference);
    }
}

#if LAPLEX_WITH_CUDA
// The kernels' entry points on device copies of p in T (float or double),
// every gradient wanted, with the given launch tuning for the forward and
// the backward.
template <class T>
LaplexResult run_laplex_cuda_kernels(const LaplexProblem& p,
                                     const cuda::LaplexCudaTuning& forward_tuning,
                                     const cuda::LaplexCudaTuning& backward_tuning) {
  const LaplexShape shape{p.batch, p.m, p.n, p.heads, p.phased};
  const DType dtype = std::is_same_v<T, float> ? DType::f32 : DType::f64;
  auto upload = [&](const std::vector<double>& values, const Shape& dims) {
    return values.empty() ? Tensor()
                          : Tensor::from_vector(values, dims).to(dtype).to(Device::cuda());
  };
  const Tensor t = upload(p.t, {p.heads, p.m}), s = upload(p.s, {p.heads, p.n});
  const Tensor u = upload(p.u, {p.heads * p.m}), v = upload(p.v, {p.heads * p.n});
  const Tensor rho = upload(p.rho, {p.heads}), omega = upload(p.omega, {p.heads});
  const Tensor phi = upload(p.phi, {p.heads});
  const Tensor x = upload(p.x, {p.batch * p.n}), gy = upload(p.gy, {p.batch * p.m});
  auto ptr = [](const Tensor& a) { return a.defined() ? a.data<T>() : nullptr; };
  LaplexParamPtrs<T> params{ptr(t), ptr(s), ptr(u), ptr(v), ptr(rho),
                                 p.phased ? ptr(omega) : nullptr, p.phased ? ptr(phi) : nullptr};
  const cuda::LaplexCudaPlan plan = cuda::make_laplex_plan_cuda(shape, t, s);
  auto output = [&](std::int64_t count) {
    return Tensor::full({std::max<std::int64_t>(count, 1)}, -7.0, dtype, Device::cuda());
  };
  const Tensor y = output(p.batch * p.m), dx = output(p.batch * p.n);
  const Tensor dt = output(p.heads * p.m), ds = output(p.heads * p.n);
  const Tensor du = output(p.heads * p.m), dv = output(p.heads * p.n);
  const Tensor drho = output(p.heads), domega = output(p.heads), dphi = output(p.heads);
  cuda::laplex_forward_cuda<T>(plan, shape, params, ptr(x), nullptr, ptr(y), 0,
                                    forward_tuning);
  const LaplexGradPtrs<T> grads{ptr(dx), ptr(dt), ptr(ds),
                                     u.defined() ? ptr(du) : nullptr,
                                     v.defined() ? ptr(dv) : nullptr, ptr(drho),
                                     ptr(domega), ptr(dphi)};
  cuda::laplex_backward_cuda<T>(plan, shape, params, ptr(x), ptr(gy), grads, 0,
                                     backward_tuning);
  auto values = [](const Tensor& a, std::int64_t count) {
    std::vector<double> all = host_values(a.to(DType::f64));
    all.resize(static_cast<std::size_t>(count));
    return all;
  };
  LaplexResult r;
  r.y = values(y, p.batch * p.m);
  r.grads = {values(dx, p.batch * p.n), values(dt, p.heads * p.m), values(ds, p.heads * p.n),
             u.defined() ? values(du, p.heads * p.m) : std::vector<double>(),
             v.defined() ? values(dv, p.heads * p.n) : std::vector<double>(),
             values(drho, p.heads),
             values(domega, p.heads),
             values(dphi, p.heads)};
  return r;
}

// The batch cut into row slices, as the copy budget does at n = 2^26 and
// B = 64 on an H100 (laplex_lane_slices.h): slices of 10 rows (one row group
// each, every later slice adding into the per-event sums), of 32 (the last
// one short) and of 64 (two row groups, then one; the groups of each head
// and slice added into the output), two heads, against the CPU kernels.
TEST(LaplexCuda, LaneSlicesMatchCpu) {
  LAPLEX_REQUIRE_GPU();
  for (bool phased : {false, true})
    for (std::int64_t batch : {37, 70})
      for (std::int64_t slice : {10, 32, 64}) {
        const LaplexProblem p = random_laplex_problem(batch, 300, 250, 2, phased, true, 81, 30.0);
        cuda::LaplexCudaTuning tuning;
        tuning.lane_slice_rows = slice;
        const LaplexResult got = run_laplex_cuda_kernels<double>(p, tuning, tuning);
        const LaplexResult want = run_laplex_cpu<double>(p);
        SCOPED_TRACE(std::string(phased ? "phased" : "unphased") + ", batch " +
                     std::to_string(batch) + ", slices of " + std::to_string(slice));
        expect_same(got, want.y, want.grads, phased, 1e-10);
      }
}

// The carries run as a scan of scans when a row has many chunk totals
// (laplex_carries.cuh): segments of 1, 5 and 100 totals (100: one segment),
// on the event-parallel kernels (batch 1: 6 chunks a row) and the lanes
// (batch 37, in slices of 32 and 5 rows: 86 chunks a row), against the CPU
// kernels.
TEST(LaplexCuda, CarriesInSegmentsMatchCpu) {
  LAPLEX_REQUIRE_GPU();
  for (bool phased : {false, true})
    for (std::int64_t batch : {1, 37})
      for (std::int64_t segment : {1, 5, 100}) {
        const LaplexProblem p =
            random_laplex_problem(batch, 3000, 2500, 2, phased, true, 83, 300.0);
        cuda::LaplexCudaTuning tuning;
        tuning.lane_slice_rows = 32;
        tuning.carries_segment_chunks = segment;
        const LaplexResult got = run_laplex_cuda_kernels<double>(p, tuning, tuning);
        const LaplexResult want = run_laplex_cpu<double>(p);
        SCOPED_TRACE(std::string(phased ? "phased" : "unphased") + ", batch " +
                     std::to_string(batch) + ", segments of " + std::to_string(segment));
        expect_same(got, want.y, want.grads, phased, 1e-10);
      }
}

// Float32 through the row slices (the asynchronous copies move 4 bytes a
// cell there, 8 in float64), and slices sized by a copy budget instead of
// forced (a budget of about twelve rows of three copies: slices of 8-12
// rows, the last one short, so its chunk totals reuse the first slice's
// block), against the CPU kernels in float64.
TEST(LaplexCuda, Float32AndBudgetedLaneSlicesMatchCpu) {
  LAPLEX_REQUIRE_GPU();
  for (bool phased : {false, true}) {
    const LaplexProblem p = random_laplex_problem(70, 300, 250, 2, phased, true, 84, 30.0);
    const LaplexResult want = run_laplex_cpu<double>(p);
    for (std::int64_t slice : {10, 32}) {
      cuda::LaplexCudaTuning tuning;
      tuning.lane_slice_rows = slice;
      expect_float32_accurate(std::string("CUDA lanes in slices of ") + std::to_string(slice) +
                                  (phased ? ", phased" : ", unphased"),
                              run_laplex_cuda_kernels<float>(p, tuning, tuning), want);
    }
    cuda::LaplexCudaTuning budgeted;
    budgeted.lane_copy_budget_bytes = 12 * 3 * 300 * static_cast<std::int64_t>(sizeof(double));
    SCOPED_TRACE(std::string(phased ? "phased" : "unphased") + ", slices from a budget");
    expect_same(run_laplex_cuda_kernels<double>(p, budgeted, budgeted), want.y, want.grads, phased,
                1e-10);
  }
}

// No rows: y is empty and every parameter gradient is zero.
TEST(LaplexCuda, KernelsOnAnEmptyBatchGiveZeroGradients) {
  LAPLEX_REQUIRE_GPU();
  const LaplexProblem p = random_laplex_problem(0, 30, 25, 2, true, true, 82);
  const LaplexResult r = run_laplex_cuda_kernels<double>(p, {}, {});
  for (const auto* values : {&r.grads.dt, &r.grads.ds, &r.grads.du, &r.grads.dv, &r.grads.drho,
                             &r.grads.domega, &r.grads.dphi}) {
    ASSERT_FALSE(values->empty());
    for (double v : *values) EXPECT_EQ(v, 0.0);
  }
}
#endif

TEST(LaplexCuda, LayerOnDeviceMatchesCpu) {
  LAPLEX_REQUIRE_GPU();
  LaplexLayerOptions options;
  options.in = 300;
  options.out = 70;
  options.heads = 3;
  options.phased = true;
  LaplexLayer cpu_layer(options, 5);
  LaplexLayer gpu_layer(options, 5);
  gpu_layer.to(Device::cuda());
  const Tensor x = random_tensor({8, 300}, 9).to(DType::f32);
  const Tensor y_cpu = cpu_layer.forward(x);
  const Tensor y_gpu = gpu_layer.forward(x.to(Device::cuda()));
  EXPECT_TRUE(all_close(y_gpu.to(Device::cpu()), y_cpu, 1e-5, 1e-4));
}

}  // namespace
}  // namespace laplex::testing
