// Float64 master weights (ParamGroup::float64_master): a float32 parameter
// far from 0 keeps updates smaller than half its float32 spacing, and the
// trajectory is the float64 one rounded; the master travels with the
// optimizer's state for an exact resume.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <vector>

#include "optim/adam.h"
#include "optim/sgd.h"

namespace laplex::optim {
namespace {

// Anchors of a 3·10^6-pixel image reach |t| = 1.5·10^6, where float32 steps
// by 0.125: Adam's steps of about lr = 0.01 are lost there without a master.
const std::vector<double> kStart = {1.5e6, -1048576.25, 300000.5, 3.0};

Tensor parameter(DType dtype) {
  Tensor p = Tensor::from_vector(kStart, {4}).to(dtype);
  p.set_requires_grad(true);
  return p;
}

std::unique_ptr<Optimizer> adam(const Tensor& p, bool master) {
  ParamGroup group;
  group.params = {p};
  group.lr = 0.01;
  group.float64_master = master;
  return std::make_unique<Adam>(std::vector<ParamGroup>{group}, AdamOptions{});
}

// Gradients that change sign and size from step to step.
Tensor gradient(int step, DType dtype) {
  std::vector<double> g(4);
  for (int i = 0; i < 4; ++i) g[i] = std::sin(0.7 * step + i) + 0.3;
  return Tensor::from_vector(g, {4}).to(dtype);
}

void run_steps(Optimizer& optimizer, Tensor& p, int first, int count) {
  for (int step = first; step < first + count; ++step) {
    p.set_grad(gradient(step, p.dtype()));
    optimizer.step();
  }
}

TEST(MasterWeights, Float32ParametersFollowTheFloat64TrajectoryRounded) {
  Tensor plain = parameter(DType::f32), mastered = parameter(DType::f32),
         exact = parameter(DType::f64);
  auto plain_adam = adam(plain, false), mastered_adam = adam(mastered, true),
       exact_adam = adam(exact, false);
  run_steps(*plain_adam, plain, 0, 40);
  run_steps(*mastered_adam, mastered, 0, 40);
  run_steps(*exact_adam, exact, 0, 40);

  const auto p = plain.to_vector<float>(), m = mastered.to_vector<float>();
  const auto e = exact.to_vector<double>();
  // Without a master the anchors beyond 2^18 never move at all.
  EXPECT_EQ(p[0], static_cast<float>(kStart[0]));
  EXPECT_EQ(p[1], static_cast<float>(kStart[1]));
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(m[i], static_cast<float>(e[i])) << i;  // the float64 run, rounded
    EXPECT_GT(std::abs(e[i] - kStart[i]), 0.1) << i;  // and it did move
  }
  EXPECT_NE(m[0], static_cast<float>(kStart[0]));
  // The moments are float64 too (they belong to the master's update).
  EXPECT_EQ(mastered_adam->state_dict().at("param.0.exp_avg").dtype(), DType::f64);
  EXPECT_EQ(mastered_adam->state_dict().at("param.0.master").dtype(), DType::f64);
}

TEST(MasterWeights, SavedStateResumesBitForBit) {
  Tensor whole = parameter(DType::f32);
  auto whole_adam = adam(whole, true);
  run_steps(*whole_adam, whole, 0, 30);

  Tensor first = parameter(DType::f32);
  auto first_adam = adam(first, true);
  run_steps(*first_adam, first, 0, 12);
  const auto state = first_adam->state_dict();
  Tensor resumed = Tensor::from_vector(first.to_vector<float>(), {4});
  resumed.set_requires_grad(true);
  auto resumed_adam = adam(resumed, true);
  resumed_adam->load_state_dict(state);
  run_steps(*resumed_adam, resumed, 12, 18);
  EXPECT_EQ(resumed.to_vector<float>(), whole.to_vector<float>());
  EXPECT_EQ(resumed_adam->state_dict().at("param.0.master").to_vector<double>(),
            whole_adam->state_dict().at("param.0.master").to_vector<double>());
}

// A checkpoint whose parameter was rewritten (an outside tool moved an
// anchor) keeps the parameter: the stale master is dropped and a new one
// starts from the parameter. A state without a master (saved before the
// group asked for one) starts one the same way.
TEST(MasterWeights, AMasterThatNoLongerRoundsToItsParameterIsDropped) {
  Tensor p = parameter(DType::f32);
  auto first = adam(p, true);
  run_steps(*first, p, 0, 5);
  const auto state = first->state_dict();

  std::vector<float> edited = p.to_vector<float>();
  edited[2] = 7.0f;
  Tensor q = Tensor::from_vector(edited, {4});
  q.set_requires_grad(true);
  auto second = adam(q, true);
  second->load_state_dict(state);
  EXPECT_EQ(second->state_dict().count("param.0.master"), 0u);
  run_steps(*second, q, 5, 1);
  EXPECT_NEAR(q.to_vector<float>()[2], 7.0f, 0.02f);

  auto without = state;
  without.erase("param.0.master");
  Tensor r = Tensor::from_vector(p.to_vector<float>(), {4});
  r.set_requires_grad(true);
  auto third = adam(r, true);
  third->load_state_dict(without);
  run_steps(*third, r, 5, 1);
  const auto master = third->state_dict().at("param.0.master").to_vector<double>();
  const auto moved = r.to_vector<float>(), before = p.to_vector<float>();
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(static_cast<float>(master[i]), moved[i]) << i;
    EXPECT_NEAR(master[i], before[i], 0.02) << i;  // one step from the parameter
    EXPECT_NE(master[i], static_cast<double>(before[i])) << i;
  }
}

TEST(MasterWeights, SgdAndFloat64ParametersNeedNoCopy) {
  // SGD through a master: 30 steps of 0.01 move an anchor at 1.5e6.
  Tensor p = parameter(DType::f32);
  ParamGroup group;
  group.params = {p};
  group.lr = 0.01;
  group.float64_master = true;
  Sgd sgd({group}, SgdOptions{});
  for (int step = 0; step < 30; ++step) {
    p.set_grad(Tensor::ones({4}));
    sgd.step();
  }
  EXPECT_EQ(p.to_vector<float>()[0], static_cast<float>(1.5e6 - 0.3));
  // A float64 parameter is its own master.
  Tensor d = parameter(DType::f64);
  auto d_adam = adam(d, true);
  run_steps(*d_adam, d, 0, 3);
  EXPECT_EQ(d_adam->state_dict().count("param.0.master"), 0u);
}

}  // namespace
}  // namespace laplex::optim
