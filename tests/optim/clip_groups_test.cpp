#include <gtest/gtest.h>

#include <cmath>

#include "optim/clip.h"
#include "optim/param_groups.h"

namespace laplex::optim {
namespace {

TEST(ClipGradNorm, ScalesOnlyAboveTheLimit) {
  Tensor a = Tensor::zeros({2}, DType::f64), b = Tensor::zeros({1}, DType::f64);
  a.set_requires_grad(true);
  b.set_requires_grad(true);
  a.set_grad(Tensor::from_vector<double>({3, 0}, {2}));
  b.set_grad(Tensor::from_vector<double>({4}, {1}));
  EXPECT_DOUBLE_EQ(clip_grad_norm({a, b}, 10.0), 5.0);
  EXPECT_EQ(a.grad().to_vector<double>()[0], 3.0);
  EXPECT_DOUBLE_EQ(clip_grad_norm({a, b}, 1.0), 5.0);
  EXPECT_NEAR(a.grad().to_vector<double>()[0], 3.0 / (5.0 + 1e-6), 1e-12);
  EXPECT_NEAR(b.grad().to_vector<double>()[0], 4.0 / (5.0 + 1e-6), 1e-12);
}

TEST(ParamGroups, FirstMatchingRuleTakesTheParameter) {
  const std::vector<std::pair<std::string, Tensor>> named = {
      {"model.0.t", Tensor::zeros({1})},
      {"model.0.s", Tensor::zeros({1})},
      {"model.0.u", Tensor::zeros({1})},
      {"model.1.weight", Tensor::zeros({1})}};
  const auto groups = make_param_groups(
      named, {{"anchors", {"*.t", "*.s"}, 0.001, 0.0}, {"never", {"nothing"}, {}, {}}}, 0.1, 0.01);
  ASSERT_EQ(groups.size(), 2u);
  EXPECT_EQ(groups[0].name, "anchors");
  EXPECT_EQ(groups[0].params.size(), 2u);
  EXPECT_DOUBLE_EQ(groups[0].lr, 0.001);
  EXPECT_EQ(groups[1].name, "default");
  EXPECT_EQ(groups[1].params.size(), 2u);
  EXPECT_DOUBLE_EQ(groups[1].weight_decay, 0.01);
  EXPECT_FALSE(groups[0].float64_master);

  GroupRule mastered{"anchors", {"*.t"}, {}, {}};
  mastered.float64_master = true;
  const auto with_master = make_param_groups(named, {mastered}, 0.1, 0.0);
  ASSERT_EQ(with_master.size(), 2u);
  EXPECT_TRUE(with_master[0].float64_master);
  EXPECT_FALSE(with_master[1].float64_master);
}

}  // namespace
}  // namespace laplex::optim
