#include <gtest/gtest.h>

#include "optim/sgd.h"

namespace laplex::optim {
namespace {

// Three steps of torch.optim.SGD(lr=0.1, momentum=0.9, weight_decay=0.01,
// nesterov=...) on p = [1, -2] with constant grad [0.5, 0.25], by hand:
// the rule in sgd.h applied in float64.
std::vector<double> reference(bool nesterov) {
  std::vector<double> p = {1, -2}, buf = {0, 0};
  const double g0[2] = {0.5, 0.25};
  for (int step = 0; step < 3; ++step)
    for (int i = 0; i < 2; ++i) {
      double g = g0[i] + 0.01 * p[i];
      buf[i] = step == 0 ? g : 0.9 * buf[i] + g;
      g = nesterov ? g + 0.9 * buf[i] : buf[i];
      p[i] -= 0.1 * g;
    }
  return p;
}

TEST(Sgd, MomentumAndNesterovFollowTorchRule) {
  for (bool nesterov : {false, true}) {
    Tensor p = Tensor::from_vector<double>({1, -2}, {2});
    p.set_requires_grad(true);
    Sgd sgd({p}, {.lr = 0.1, .momentum = 0.9, .weight_decay = 0.01, .nesterov = nesterov});
    for (int step = 0; step < 3; ++step) {
      p.set_grad(Tensor::from_vector<double>({0.5, 0.25}, {2}));
      sgd.step();
    }
    const auto got = p.to_vector<double>();
    const auto want = reference(nesterov);
    EXPECT_NEAR(got[0], want[0], 1e-12);
    EXPECT_NEAR(got[1], want[1], 1e-12);
  }
}

TEST(Sgd, RejectsBadOptions) {
  Tensor p = Tensor::zeros({2});
  EXPECT_THROW(Sgd({p}, {.lr = -1}), Error);
  EXPECT_THROW(Sgd({p}, {.lr = 0.1, .nesterov = true}), Error);
}

}  // namespace
}  // namespace laplex::optim
