// Replays tests/golden/optim_trajectories.json (scripts/golden_optim.py,
// torch.optim in float64) and checks laplex's optimizers step for step.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>

#include "core/ops/elementwise.h"
#include "core/ops/reduce.h"
#include "optim/adam.h"
#include "optim/schedule.h"
#include "optim/sgd.h"

namespace laplex::optim {
namespace {

struct Problem {
  Tensor p, q;
  Tensor cp, cq;
};

Problem make_problem() {
  std::vector<double> p(5), q(6), cp(5), cq(6);
  for (int i = 0; i < 5; ++i) {
    p[i] = std::sin(0.7 * i + 0.3) * 1.5;
    cp[i] = 0.5 + 0.1 * i;
  }
  for (int i = 0; i < 6; ++i) {
    q[i] = std::cos(0.45 * i - 0.2);
    cq[i] = 0.3 + 0.05 * i;
  }
  Problem pr{Tensor::from_vector(p, {5}), Tensor::from_vector(q, {2, 3}),
             Tensor::from_vector(cp, {5}), Tensor::from_vector(cq, {2, 3})};
  pr.p.set_requires_grad(true);
  pr.q.set_requires_grad(true);
  return pr;
}

Tensor loss(const Problem& pr) {
  const Tensor lp = sum(sub(mul(mul(pr.cp, pow(pr.p, 4.0)), 0.25), mul(pr.p, 0.3)));
  const Tensor lq =
      sum(sub(add(mul(mul(pr.cq, pow(pr.q, 4.0)), 0.25), mul(square(pr.q), 0.2)), mul(pr.q, 0.1)));
  return add(lp, lq);
}

Schedule schedule() {
  Schedule s;
  s.kind = "cosine";
  s.warmup_steps = 3;
  s.total_steps = 15;
  s.min_factor = 0.1;
  return s;
}

std::unique_ptr<Optimizer> make(const std::string& kind, const Problem& pr) {
  std::vector<ParamGroup> groups = {{{pr.p}, 0.05, 0.01, "p"}, {{pr.q}, 0.02, 0.0, "q"}};
  if (kind == "sgd_momentum") return std::make_unique<Sgd>(groups, SgdOptions{0.9, false});
  if (kind == "sgd_nesterov") return std::make_unique<Sgd>(groups, SgdOptions{0.9, true});
  AdamOptions options{0.9, 0.99, 1e-8, kind == "adamw"};
  return std::make_unique<Adam>(groups, options);
}

void step(Optimizer& opt, const Problem& pr, std::int64_t k) {
  opt.zero_grad();
  loss(pr).backward();
  opt.set_lr_factor(schedule().factor(k));
  opt.step();
}

nlohmann::json golden() {
  std::ifstream in(std::string(LAPLEX_SOURCE_DIR) + "/tests/golden/optim_trajectories.json");
  return nlohmann::json::parse(in);
}

class Trajectory : public ::testing::TestWithParam<std::string> {};

TEST_P(Trajectory, MatchesTorchEveryStep) {
  const auto expected = golden()[GetParam()];
  Problem pr = make_problem();
  auto opt = make(GetParam(), pr);
  for (std::int64_t k = 0; k < 20; ++k) {
    step(*opt, pr, k);
    const auto p = pr.p.to_vector<double>();
    const auto q = pr.q.to_vector<double>();
    for (int i = 0; i < 5; ++i) {
      const double want = expected[k]["p"][i];
      EXPECT_NEAR(p[i], want, 1e-6 * std::fabs(want) + 1e-12) << "step " << k << " p" << i;
    }
    for (int i = 0; i < 6; ++i) {
      const double want = expected[k]["q"][i];
      EXPECT_NEAR(q[i], want, 1e-6 * std::fabs(want) + 1e-12) << "step " << k << " q" << i;
    }
  }
}

TEST_P(Trajectory, SaveAndRestoreMidwayIsBitIdentical) {
  Problem straight = make_problem();
  auto a = make(GetParam(), straight);
  for (std::int64_t k = 0; k < 20; ++k) step(*a, straight, k);

  Problem first = make_problem();
  auto b = make(GetParam(), first);
  for (std::int64_t k = 0; k < 10; ++k) step(*b, first, k);
  const auto state = b->state_dict();

  Problem resumed = make_problem();
  resumed.p.detach().copy_(first.p);
  resumed.q.detach().copy_(first.q);
  auto c = make(GetParam(), resumed);
  c->load_state_dict(state);
  for (std::int64_t k = 10; k < 20; ++k) step(*c, resumed, k);

  EXPECT_EQ(resumed.p.to_vector<double>(), straight.p.to_vector<double>());
  EXPECT_EQ(resumed.q.to_vector<double>(), straight.q.to_vector<double>());
}

// A saved state whose counters are not one whole number (a checkpoint
// edited or written by another tool) is a UsageError naming the entry, not
// a failure of item() deep inside.
TEST_P(Trajectory, MalformedSavedCountersAreUsageErrorsNamingThem) {
  Problem problem = make_problem();
  auto a = make(GetParam(), problem);
  for (std::int64_t k = 0; k < 3; ++k) step(*a, problem, k);
  const auto good = a->state_dict();
  const std::vector<std::pair<std::string, Tensor>> bad = {
      {"lr_factor", Tensor::from_vector<double>({1.0, 1.0}, {2})},
      {"lr_factor", Tensor::from_vector<double>({-1.0}, {1})},
      {"param.0.step", Tensor::from_vector<double>({3.0, 3.0}, {2})},
      {"param.0.step", Tensor::from_vector<double>({-2.0}, {1})},
      {"param.0.step", Tensor::from_vector<double>({1e300}, {1})},
      {"param.0.step", Tensor::from_vector<double>({2.5}, {1})},
  };
  for (const auto& [name, value] : bad) {
    auto state = good;
    state[name] = value;
    auto b = make(GetParam(), problem);
    try {
      b->load_state_dict(state);
      ADD_FAILURE() << name << " = " << value.to_vector<double>()[0] << " was accepted";
    } catch (const UsageError& e) {
      EXPECT_NE(std::string(e.what()).find(name), std::string::npos) << e.what();
    }
  }
}

// Moments that no run can produce (NaN, or a negative second moment, whose
// square root Adam takes) are refused with their name, not trained on to NaN.
TEST_P(Trajectory, ImpossibleSavedMomentsAreUsageErrorsNamingThem) {
  Problem problem = make_problem();
  auto a = make(GetParam(), problem);
  for (std::int64_t k = 0; k < 3; ++k) step(*a, problem, k);
  const auto good = a->state_dict();
  const bool adam = GetParam().rfind("adam", 0) == 0;
  std::vector<std::pair<std::string, double>> bad = {
      {adam ? "param.0.exp_avg" : "param.0.momentum_buffer", NAN},
      {adam ? "param.1.exp_avg" : "param.1.momentum_buffer", INFINITY}};
  if (adam) bad.push_back({"param.0.exp_avg_sq", -1e-3});
  for (const auto& [name, value] : bad) {
    auto state = good;
    ASSERT_TRUE(state.count(name)) << name;
    std::vector<double> values = state[name].to(DType::f64).to_vector<double>();
    values[1] = value;
    state[name] = Tensor::from_vector(values, state[name].shape()).to(state.at(name).dtype());
    auto b = make(GetParam(), problem);
    try {
      b->load_state_dict(state);
      ADD_FAILURE() << name << " = " << value << " was accepted";
    } catch (const UsageError& e) {
      EXPECT_NE(std::string(e.what()).find("'" + name + "'"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("(element 1)"), std::string::npos) << e.what();
    }
  }
  // Zero second moments are what a fresh state holds: accepted.
  if (adam) {
    auto state = good;
    state["param.0.exp_avg_sq"] = Tensor::zeros(state["param.0.exp_avg_sq"].shape(),
                                                state["param.0.exp_avg_sq"].dtype());
    auto b = make(GetParam(), problem);
    EXPECT_NO_THROW(b->load_state_dict(state));
  }
}

// A parameter's moments are saved together; one missing (a damaged or
// hand-edited train_state) crashed Adam's next update on an undefined
// tensor. A state without any slot of a parameter (its first update not
// taken yet) is still fine.
TEST(OptimizerState, AStateMissingOneSlotOfAParameterIsAUsageErrorNamingIt) {
  for (const std::string kind : {"adam", "adamw"}) {
    Problem problem = make_problem();
    auto a = make(kind, problem);
    for (std::int64_t k = 0; k < 3; ++k) step(*a, problem, k);
    for (const char* name : {"param.1.exp_avg_sq", "param.1.exp_avg"}) {
      auto state = a->state_dict();
      ASSERT_EQ(state.erase(name), 1u) << name;
      auto b = make(kind, problem);
      try {
        b->load_state_dict(state);
        ADD_FAILURE() << kind << ": a state without " << name << " was accepted";
      } catch (const UsageError& e) {
        EXPECT_NE(std::string(e.what()).find("missing '" + std::string(name) + "'"),
                  std::string::npos)
            << e.what();
      }
    }
    auto state = a->state_dict();
    state.erase("param.1.exp_avg");
    state.erase("param.1.exp_avg_sq");
    auto b = make(kind, problem);
    EXPECT_NO_THROW(b->load_state_dict(state)) << kind;
  }
}

INSTANTIATE_TEST_SUITE_P(Torch, Trajectory,
                         ::testing::Values("sgd_momentum", "sgd_nesterov", "adam", "adamw"));

TEST(Schedule, ShapesAndValidation) {
  Schedule s;
  s.kind = "step";
  s.step_size = 5;
  s.gamma = 0.5;
  EXPECT_DOUBLE_EQ(s.factor(4), 1.0);
  EXPECT_DOUBLE_EQ(s.factor(5), 0.5);
  EXPECT_DOUBLE_EQ(s.factor(12), 0.25);
  const Schedule c = schedule();
  EXPECT_DOUBLE_EQ(c.factor(0), 0.0);
  EXPECT_DOUBLE_EQ(c.factor(3), 1.0);
  EXPECT_NEAR(c.factor(18), 0.1, 1e-12);
  s.kind = "linearish";
  EXPECT_THROW(s.validate(), UsageError);
}

}  // namespace
}  // namespace laplex::optim
