#include <gtest/gtest.h>

#include <cmath>

#include "core/ops/loss.h"
#include "helpers/gradcheck.h"

namespace laplex {
namespace {

using testing::gradcheck;
using testing::random_tensor;

TEST(LogSoftmax, ValuesAndGradientsAlongAnyDim) {
  const Tensor x = Tensor::from_vector<double>({1, 2, 3, 1000, 1000, 1000}, {2, 3});
  const auto y = log_softmax(x).to_vector<double>();
  const double lse = std::log(std::exp(1.0) + std::exp(2.0) + std::exp(3.0));
  EXPECT_NEAR(y[0], 1 - lse, 1e-12);
  EXPECT_NEAR(y[3], -std::log(3.0), 1e-12);  // stable for huge logits
  EXPECT_TRUE(gradcheck([](const auto& in) { return log_softmax(in[0], 1); },
                        {random_tensor({3, 4}, 1, -3, 3)}));
  EXPECT_TRUE(gradcheck([](const auto& in) { return log_softmax(in[0], 0); },
                        {random_tensor({3, 4}, 2, -3, 3)}));
}

TEST(CrossEntropy, MatchesDefinitionWithSmoothing) {
  const Tensor logits = random_tensor({4, 5}, 3, -2, 2);
  const Tensor targets = Tensor::from_vector<std::int64_t>({0, 4, 2, 2}, {4});
  for (double eps : {0.0, 0.1}) {
    const auto lp = log_softmax(logits).to_vector<double>();
    const std::int64_t t[4] = {0, 4, 2, 2};
    double want = 0;
    for (int r = 0; r < 4; ++r) {
      double row = 0;
      for (int j = 0; j < 5; ++j) row += lp[r * 5 + j];
      want += -((1 - eps) * lp[r * 5 + t[r]] + eps / 5 * row);
    }
    EXPECT_NEAR(cross_entropy(logits, targets, eps).item(), want / 4, 1e-12);
    EXPECT_TRUE(gradcheck([&](const auto& in) { return cross_entropy(in[0], targets, eps); },
                          {logits}));
  }
  EXPECT_THROW(cross_entropy(logits, Tensor::from_vector<std::int64_t>({0, 5, 1, 1}, {4})), Error);
  EXPECT_THROW(cross_entropy(logits, Tensor::from_vector<std::int64_t>({0, 1}, {2})), Error);
}

TEST(Mse, ValueAndGradient) {
  const Tensor a = Tensor::from_vector<double>({1, 2}, {2}), b = Tensor::from_vector<double>({0, 4}, {2});
  EXPECT_DOUBLE_EQ(mse(a, b).item(), 2.5);
  EXPECT_TRUE(gradcheck([](const auto& in) { return mse(in[0], in[1]); },
                        {random_tensor({3}, 1), random_tensor({3}, 2)}));
}

}  // namespace
}  // namespace laplex
