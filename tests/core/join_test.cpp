#include <gtest/gtest.h>

#include "core/ops/reduce.h"
#include "core/ops/join.h"
#include "core/ops/view.h"
#include "helpers/gradcheck.h"

namespace laplex {
namespace {

using testing::gradcheck;
using testing::random_tensor;

TEST(Join, ConcatValues) {
  const Tensor a = Tensor::from_vector<float>({1, 2, 3, 4}, {2, 2});
  const Tensor b = Tensor::from_vector<float>({5, 6}, {2, 1});
  const Tensor c = concat({a, b}, 1);
  EXPECT_EQ(c.shape(), (Shape{2, 3}));
  EXPECT_EQ(c.to_vector<float>(), (std::vector<float>{1, 2, 5, 3, 4, 6}));
  const Tensor r = concat({a, Tensor::from_vector<float>({7, 8}, {1, 2})}, -2);
  EXPECT_EQ(r.to_vector<float>(), (std::vector<float>{1, 2, 3, 4, 7, 8}));
}

TEST(Join, ConcatStridedAndEmptyInputs) {
  const Tensor a = Tensor::from_vector<double>({1, 2, 3, 4, 5, 6}, {2, 3});
  const Tensor t = transpose(a, 0, 1);  // (3, 2), not contiguous
  const Tensor empty = Tensor::zeros({0, 2}, DType::f64);
  const Tensor c = concat({empty, t, slice(t, 0, 1, 3), empty}, 0);
  EXPECT_EQ(c.shape(), (Shape{5, 2}));
  EXPECT_EQ(c.to_vector<double>(), (std::vector<double>{1, 4, 2, 5, 3, 6, 2, 5, 3, 6}));
}

TEST(Join, ConcatIntegers) {
  const Tensor a = Tensor::from_vector<std::int64_t>({1, 2}, {2});
  const Tensor b = Tensor::from_vector<std::int64_t>({3}, {1});
  EXPECT_EQ(concat({a, b}, 0).to_vector<std::int64_t>(), (std::vector<std::int64_t>{1, 2, 3}));
}

TEST(Join, StackValues) {
  const Tensor a = Tensor::from_vector<float>({1, 2, 3}, {3});
  const Tensor b = Tensor::from_vector<float>({4, 5, 6}, {3});
  const Tensor s0 = stack({a, b}, 0);
  EXPECT_EQ(s0.shape(), (Shape{2, 3}));
  EXPECT_EQ(s0.to_vector<float>(), (std::vector<float>{1, 2, 3, 4, 5, 6}));
  const Tensor s1 = stack({a, b}, -1);
  EXPECT_EQ(s1.shape(), (Shape{3, 2}));
  EXPECT_EQ(s1.to_vector<float>(), (std::vector<float>{1, 4, 2, 5, 3, 6}));
  const Tensor scalars = stack({Tensor::scalar(1), Tensor::scalar(2)}, 0);
  EXPECT_EQ(scalars.shape(), (Shape{2}));
}

TEST(Join, StackStridedInputs) {
  const Tensor a = Tensor::from_vector<double>({1, 2, 3, 4}, {2, 2});
  const Tensor s = stack({transpose(a, 0, 1), a}, 1);  // (2, 2, 2)
  EXPECT_EQ(s.to_vector<double>(), (std::vector<double>{1, 3, 1, 2, 2, 4, 3, 4}));
}

TEST(Join, Errors) {
  EXPECT_THROW(concat({}, 0), Error);
  EXPECT_THROW(stack({}, 0), Error);
  EXPECT_THROW(concat({Tensor::zeros({2, 3}), Tensor::zeros({3, 3})}, 1), Error);
  EXPECT_THROW(concat({Tensor::zeros({2, 3}), Tensor::zeros({2, 3, 1})}, 0), Error);
  EXPECT_THROW(concat({Tensor::zeros({2}), Tensor::zeros({2}, DType::f64)}, 0), Error);
  EXPECT_THROW(concat({Tensor::zeros({2})}, 1), Error);
  EXPECT_THROW(concat({Tensor::scalar(1), Tensor::scalar(2)}, 0), Error);
  EXPECT_THROW(stack({Tensor::zeros({2}), Tensor::zeros({3})}, 0), Error);
  EXPECT_THROW(stack({Tensor::zeros({2}), Tensor::zeros({2})}, 2), Error);
}

TEST(Join, ConcatGradient) {
  EXPECT_TRUE(gradcheck(
      [](const std::vector<Tensor>& in) { return concat({in[0], in[1], in[2]}, 1); },
      {random_tensor({2, 3}, 1), random_tensor({2, 1}, 2), random_tensor({2, 4}, 3)}));
  // A strided input and the same tensor twice (gradients accumulate).
  EXPECT_TRUE(gradcheck(
      [](const std::vector<Tensor>& in) {
        return concat({transpose(in[0], 0, 1), in[1], transpose(in[0], 0, 1)}, 0);
      },
      {random_tensor({3, 2}, 4), random_tensor({1, 3}, 5)}));
}

TEST(Join, StackGradient) {
  EXPECT_TRUE(gradcheck(
      [](const std::vector<Tensor>& in) { return stack({in[0], in[1]}, 1); },
      {random_tensor({2, 3}, 6), random_tensor({2, 3}, 7)}));
  EXPECT_TRUE(gradcheck(
      [](const std::vector<Tensor>& in) { return stack({in[0], transpose(in[1], 0, 1)}, 2); },
      {random_tensor({2, 3}, 8), random_tensor({3, 2}, 9)}));
}

TEST(Join, OnlySomeInputsNeedGradients) {
  Tensor a = random_tensor({2, 2}, 10).set_requires_grad(true);
  const Tensor b = random_tensor({2, 2}, 11);
  sum(concat({a, b}, 0)).backward();
  EXPECT_EQ(a.grad().to_vector<double>(), (std::vector<double>{1, 1, 1, 1}));
  EXPECT_FALSE(b.grad().defined());
}

}  // namespace
}  // namespace laplex
