// The LAPLEX autograd op through the engine: outputs and every gradient
// against the float64 dense oracle, the engine's gradcheck, frozen inputs,
// bias, float32, and clear errors for bad input.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>

#include "core/autograd/grad_mode.h"
#include "core/ops/elementwise.h"
#include "core/ops/reduce.h"
#include "helpers/gradcheck.h"
#include "helpers/laplex_oracle.h"
#include "layers/laplex/laplex_op.h"
#include "layers/laplex/laplex_plan.h"

namespace laplex::testing {
namespace {

Tensor leaf(const std::vector<double>& values, const Shape& shape, bool grad = true) {
  if (values.empty()) return Tensor();
  Tensor t = Tensor::from_vector(values, shape);
  t.set_requires_grad(grad);
  return t;
}

struct OpInputs {
  Tensor x;
  LaplexParams params;
};

OpInputs make_inputs(const LaplexProblem& p, const std::vector<double>& bias) {
  OpInputs in;
  in.x = leaf(p.x, {p.batch, p.n});
  in.params.t = leaf(p.t, {p.heads, p.m});
  in.params.s = leaf(p.s, {p.heads, p.n});
  in.params.u = leaf(p.u, {p.heads, p.m});
  in.params.v = leaf(p.v, {p.heads, p.n});
  in.params.rho = leaf(p.rho, {p.heads});
  in.params.omega = leaf(p.omega, {p.heads});
  in.params.phi = leaf(p.phi, {p.heads});
  in.params.bias = leaf(bias, {p.m});
  return in;
}

std::vector<double> values(const Tensor& t) { return t.to_vector<double>(); }

void expect_near(const char* what, const std::vector<double>& got,
                 const std::vector<double>& want, double tol = 1e-10) {
  ASSERT_EQ(got.size(), want.size()) << what;
  double scale = 0;
  for (double w : want) scale = std::max(scale, std::fabs(w));
  for (std::size_t k = 0; k < got.size(); ++k)
    ASSERT_NEAR(got[k], want[k], tol * (1 + scale)) << what << "[" << k << "]";
}

TEST(LaplexOp, ForwardAndGradientsMatchOracle) {
  for (bool phased : {false, true}) {
    const LaplexProblem p = random_laplex_problem(3, 7, 9, 2, phased, true, 101);
    std::vector<double> bias(p.m);
    for (std::int64_t i = 0; i < p.m; ++i) bias[i] = 0.1 * static_cast<double>(i);
    OpInputs in = make_inputs(p, bias);
    Tensor y = laplex_apply(in.x, in.params, {phased});
    std::vector<double> want = oracle_forward(p);
    for (std::int64_t b = 0; b < p.batch; ++b)
      for (std::int64_t i = 0; i < p.m; ++i) want[b * p.m + i] += bias[i];
    expect_near("y", values(y), want);

    sum(mul(y, Tensor::from_vector(p.gy, {p.batch, p.m}))).backward();
    const LaplexGradients g = oracle_gradients(p);
    expect_near("dx", values(in.x.grad()), g.dx);
    expect_near("dt", values(in.params.t.grad()), g.dt);
    expect_near("ds", values(in.params.s.grad()), g.ds);
    expect_near("du", values(in.params.u.grad()), g.du);
    expect_near("dv", values(in.params.v.grad()), g.dv);
    expect_near("drho", values(in.params.rho.grad()), g.drho);
    expect_near("domega", values(in.params.omega.grad()), g.domega);
    expect_near("dphi", values(in.params.phi.grad()), g.dphi);
    std::vector<double> db(p.m, 0.0);
    for (std::int64_t b = 0; b < p.batch; ++b)
      for (std::int64_t i = 0; i < p.m; ++i) db[i] += p.gy[b * p.m + i];
    expect_near("dbias", values(in.params.bias.grad()), db);
  }
}

TEST(LaplexOp, Gradcheck) {
  for (bool phased : {false, true}) {
    const LaplexProblem p = random_laplex_problem(2, 5, 4, 2, phased, true, 102);
    const OpInputs in = make_inputs(p, {0.1, -0.2, 0.3, 0.0, 0.5});
    auto f = [phased](const std::vector<Tensor>& a) {
      return laplex_apply(a[0], {a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8]}, {phased});
    };
    std::vector<Tensor> inputs = {in.x,           in.params.t,   in.params.s,
                                  in.params.u,    in.params.v,   in.params.rho,
                                  in.params.omega, in.params.phi, in.params.bias};
    for (auto& t : inputs) t = t.detach();
    GradcheckOptions options;
    options.atol = 1e-6;
    options.rtol = 1e-5;
    EXPECT_TRUE(gradcheck(f, inputs, options));
  }
}

TEST(LaplexOp, FrozenInputsGetNoGradient) {
  const LaplexProblem p = random_laplex_problem(2, 6, 5, 1, true, false, 103);
  OpInputs in = make_inputs(p, {});
  in.x.set_requires_grad(false);
  in.params.t.set_requires_grad(false);
  in.params.rho.set_requires_grad(false);
  Tensor y = laplex_apply(in.x, in.params, {true});
  sum(mul(y, Tensor::from_vector(p.gy, {p.batch, p.m}))).backward();
  EXPECT_FALSE(in.x.grad().defined());
  EXPECT_FALSE(in.params.t.grad().defined());
  EXPECT_FALSE(in.params.rho.grad().defined());
  const LaplexGradients g = oracle_gradients(p);
  expect_near("ds", values(in.params.s.grad()), g.ds);
  expect_near("domega", values(in.params.omega.grad()), g.domega);
  expect_near("dphi", values(in.params.phi.grad()), g.dphi);
}

TEST(LaplexOp, NoGradModeRecordsNothing) {
  const LaplexProblem p = random_laplex_problem(2, 4, 4, 1, false, true, 104);
  const OpInputs in = make_inputs(p, {});
  NoGradGuard no_grad;
  const Tensor y = laplex_apply(in.x, in.params);
  EXPECT_FALSE(y.requires_grad());
}

TEST(LaplexOp, Float32MatchesOracle) {
  const LaplexProblem p = random_laplex_problem(4, 30, 20, 2, true, true, 105);
  OpInputs in = make_inputs(p, {});
  auto f32 = [](const Tensor& t) {
    if (!t.defined()) return t;
    Tensor c = t.detach().to(DType::f32);
    c.set_requires_grad(true);
    return c;
  };
  Tensor x = f32(in.x);
  LaplexParams q{f32(in.params.t),   f32(in.params.s),     f32(in.params.u),
                 f32(in.params.v),   f32(in.params.rho),   f32(in.params.omega),
                 f32(in.params.phi), Tensor()};
  Tensor y = laplex_apply(x, q, {true});
  EXPECT_EQ(y.dtype(), DType::f32);
  expect_near("y", values(y), oracle_forward(p), 1e-5);
  sum(mul(y, Tensor::from_vector(p.gy, {p.batch, p.m}).to(DType::f32))).backward();
  const LaplexGradients g = oracle_gradients(p);
  expect_near("dt", values(q.t.grad()), g.dt, 1e-5);
  expect_near("drho", values(q.rho.grad()), g.drho, 1e-5);
}

TEST(LaplexOp, ToDenseMatchesOracle) {
  const LaplexProblem p = random_laplex_problem(1, 5, 8, 3, true, true, 106);
  const OpInputs in = make_inputs(p, {});
  expect_near("W", values(laplex_to_dense(in.params, {true})), oracle_dense(p), 1e-14);
}

// A scratch pool kept across calls (as a layer keeps its own) serves calls
// of any size, larger and smaller than the last, and several chunks and
// threads, with the same results as fresh scratch.
TEST(LaplexOp, KeptScratchServesCallsOfAnySize) {
  const auto scratch = std::make_shared<LaplexScratchPool>();
  struct Size {
    std::int64_t batch, m, n, heads;
    bool phased;
  };
  for (const Size z : {Size{70, 300, 260, 2, true}, Size{5, 7, 9, 1, false},
                       Size{70, 260, 300, 1, false}, Size{70, 300, 260, 2, true}}) {
    const LaplexProblem p = random_laplex_problem(z.batch, z.m, z.n, z.heads, z.phased, true, 107);
    OpInputs in = make_inputs(p, {});
    Tensor y = laplex_apply(in.x, in.params, {.phased = z.phased, .cpu_scratch = scratch});
    expect_near("y", values(y), oracle_forward(p));
    sum(mul(y, Tensor::from_vector(p.gy, {p.batch, p.m}))).backward();
    const LaplexGradients g = oracle_gradients(p);
    expect_near("dx", values(in.x.grad()), g.dx);
    expect_near("dt", values(in.params.t.grad()), g.dt);
    expect_near("ds", values(in.params.s.grad()), g.ds);
    expect_near("dv", values(in.params.v.grad()), g.dv);
    expect_near("drho", values(in.params.rho.grad()), g.drho);
  }
}

TEST(LaplexOp, BadInputThrows) {
  const LaplexProblem p = random_laplex_problem(2, 4, 3, 1, false, true, 107);
  const OpInputs in = make_inputs(p, {});
  EXPECT_THROW(laplex_apply(Tensor::zeros({2, 4}, DType::f64), in.params), Error);
  EXPECT_THROW(laplex_apply(Tensor::zeros({2, 3}, DType::f32), in.params), Error);
  LaplexParams no_phase = in.params;
  no_phase.omega = Tensor();
  EXPECT_THROW(laplex_apply(in.x, no_phase, {true}), Error);
  LaplexParams bad_bias = in.params;
  bad_bias.bias = Tensor::zeros({3}, DType::f64);
  EXPECT_THROW(laplex_apply(in.x, bad_bias), Error);
}

}  // namespace
}  // namespace laplex::testing
