#include <gtest/gtest.h>

#include "core/autograd/grad_mode.h"
#include "core/ops/elementwise.h"
#include "core/ops/reduce.h"
#include "core/ops/view.h"
#include "helpers/gradcheck.h"

namespace laplex {
namespace {

using testing::gradcheck;
using testing::random_tensor;

TEST(Elementwise, BroadcastAddValues) {
  const Tensor a = Tensor::from_vector<float>({1, 2, 3, 4, 5, 6}, {2, 3});
  const Tensor b = Tensor::from_vector<float>({10, 20, 30}, {3});
  EXPECT_EQ(add(a, b).to_vector<float>(), (std::vector<float>{11, 22, 33, 14, 25, 36}));
  const Tensor c = Tensor::from_vector<float>({100, 200}, {2, 1});
  EXPECT_EQ(add(a, c).to_vector<float>(), (std::vector<float>{101, 102, 103, 204, 205, 206}));
}

TEST(Elementwise, MismatchedShapesThrow) {
  EXPECT_THROW(add(Tensor::zeros({2, 3}), Tensor::zeros({4})), Error);
  EXPECT_THROW(add(Tensor::zeros({2}), Tensor::zeros({2}, DType::f64)), Error);
}

TEST(Elementwise, StridedInputs) {
  const Tensor a = Tensor::from_vector<double>({1, 2, 3, 4, 5, 6}, {2, 3});
  const Tensor t = transpose(a, 0, 1);  // (3, 2), not contiguous
  EXPECT_EQ(mul(t, 2.0).to_vector<double>(), (std::vector<double>{2, 8, 4, 10, 6, 12}));
}

struct UnaryCase {
  const char* name;
  Tensor (*fn)(const Tensor&);
  double lo, hi;
};

class UnaryGrad : public ::testing::TestWithParam<UnaryCase> {};

TEST_P(UnaryGrad, MatchesFiniteDifferences) {
  const UnaryCase c = GetParam();
  const Tensor x = random_tensor({3, 4}, 11, c.lo, c.hi);
  EXPECT_TRUE(gradcheck([&](const std::vector<Tensor>& in) { return c.fn(in[0]); }, {x}));
}

Tensor relu_fn(const Tensor& x) { return relu(x); }
Tensor neg_fn(const Tensor& x) { return neg(x); }
Tensor exp_fn(const Tensor& x) { return exp(x); }
Tensor log_fn(const Tensor& x) { return log(x); }
Tensor sqrt_fn(const Tensor& x) { return sqrt(x); }
Tensor abs_fn(const Tensor& x) { return abs(x); }
Tensor gelu_fn(const Tensor& x) { return gelu(x); }
Tensor tanh_fn(const Tensor& x) { return tanh(x); }
Tensor sigmoid_fn(const Tensor& x) { return sigmoid(x); }
Tensor softplus_fn(const Tensor& x) { return softplus(x); }
Tensor expm1_fn(const Tensor& x) { return expm1(x); }
Tensor log1p_fn(const Tensor& x) { return log1p(x); }
Tensor square_fn(const Tensor& x) { return square(x); }
Tensor clamp_fn(const Tensor& x) { return clamp(x, -0.5, 0.5); }
Tensor pow_scalar_fn(const Tensor& x) { return pow(x, 2.5); }
Tensor rsub_fn(const Tensor& x) { return rsub(3.0, x); }

INSTANTIATE_TEST_SUITE_P(
    AllUnary, UnaryGrad,
    ::testing::Values(UnaryCase{"relu", relu_fn, -1, 1}, UnaryCase{"neg", neg_fn, -1, 1},
                      UnaryCase{"exp", exp_fn, -2, 2}, UnaryCase{"log", log_fn, 0.5, 3},
                      UnaryCase{"sqrt", sqrt_fn, 0.5, 3}, UnaryCase{"abs", abs_fn, -1, 1},
                      UnaryCase{"gelu", gelu_fn, -3, 3}, UnaryCase{"tanh", tanh_fn, -2, 2},
                      UnaryCase{"sigmoid", sigmoid_fn, -5, 5},
                      UnaryCase{"softplus", softplus_fn, -5, 5},
                      UnaryCase{"expm1", expm1_fn, -2, 2}, UnaryCase{"log1p", log1p_fn, -0.5, 2},
                      UnaryCase{"square", square_fn, -2, 2}, UnaryCase{"clamp", clamp_fn, -1, 1},
                      UnaryCase{"pow_scalar", pow_scalar_fn, 0.5, 2},
                      UnaryCase{"rsub", rsub_fn, -1, 1}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(BinaryGrad, BroadcastingOps) {
  const Tensor a = random_tensor({2, 3}, 1, 0.5, 2);
  const Tensor b = random_tensor({3}, 2, 0.5, 2);
  using F = Tensor (*)(const Tensor&, const Tensor&);
  for (F f : {static_cast<F>(add), static_cast<F>(sub), static_cast<F>(mul), static_cast<F>(div),
              static_cast<F>(pow), static_cast<F>(maximum), static_cast<F>(minimum)}) {
    EXPECT_TRUE(gradcheck([&](const std::vector<Tensor>& in) { return f(in[0], in[1]); }, {a, b}));
  }
}

TEST(BinaryGrad, Where) {
  const Tensor cond = Tensor::from_vector<double>({1, 0, 1, 0, 0, 1}, {2, 3});
  EXPECT_TRUE(gradcheck(
      [&](const std::vector<Tensor>& in) { return where(cond, in[0], in[1]); },
      {random_tensor({2, 3}, 3), random_tensor({1, 3}, 4)}));
}

TEST(Autograd, AccumulatesOverUsesAndCalls) {
  Tensor x = Tensor::from_vector<double>({1, 2}, {2});
  x.set_requires_grad(true);
  sum(mul(x, x)).backward();           // 2x
  sum(add(x, x)).backward();           // + 2
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{4, 6}));
}

TEST(Autograd, ClearErrors) {
  Tensor x = Tensor::from_vector<double>({1, 2}, {2});
  EXPECT_THROW(sum(x).backward(), Error);  // does not require grad
  x.set_requires_grad(true);
  EXPECT_THROW(mul(x, 2.0).backward(), Error);  // non-scalar without a gradient
  EXPECT_THROW(mul(x, 2.0).backward(Tensor::ones({3}, DType::f64)), Error);
  {
    NoGradGuard guard;
    EXPECT_FALSE(mul(x, 2.0).requires_grad());
  }
  EXPECT_THROW(argmax(x, 0).set_requires_grad(true), Error);
}

}  // namespace
}  // namespace laplex
