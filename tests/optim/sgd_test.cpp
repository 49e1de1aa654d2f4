#include <gtest/gtest.h>

#include "optim/sgd.h"

namespace laplex::optim {
namespace {

TEST(Sgd, PlainStepWithoutMomentum) {
  Tensor p = Tensor::from_vector<double>({1, -2}, {2});
  p.set_requires_grad(true);
  Sgd sgd({{{p}, 0.1, 0.5, "all"}}, {});
  p.set_grad(Tensor::from_vector<double>({0.5, 0.25}, {2}));
  sgd.step();
  // p - lr * (g + wd * p)
  EXPECT_EQ(p.to_vector<double>(), (std::vector<double>{1 - 0.1 * (0.5 + 0.5), -2 - 0.1 * (0.25 - 1)}));
}

TEST(Sgd, RejectsBadOptions) {
  Tensor p = Tensor::zeros({2});
  EXPECT_THROW(Sgd({{{p}, -1.0, 0.0, "g"}}, {}), UsageError);
  EXPECT_THROW(Sgd({{{p}, 0.1, 0.0, "g"}}, {0.0, true}), UsageError);
}

}  // namespace
}  // namespace laplex::optim
