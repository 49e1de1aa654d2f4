#include <gtest/gtest.h>

#include <cmath>

#include "core/ops/sort.h"
#include "core/ops/view.h"
#include "helpers/gradcheck.h"

namespace laplex {
namespace {

using testing::gradcheck;
using testing::random_tensor;

using I = std::vector<std::int64_t>;

TEST(Sort, AscendingAndDescendingRows) {
  const Tensor x = Tensor::from_vector<float>({3, 1, 2, 0, 5, 4}, {2, 3});
  const auto [v, i] = sort(x);
  EXPECT_EQ(v.to_vector<float>(), (std::vector<float>{1, 2, 3, 0, 4, 5}));
  EXPECT_EQ(i.to_vector<std::int64_t>(), (I{1, 2, 0, 0, 2, 1}));
  EXPECT_EQ(i.dtype(), DType::i64);
  const auto [vd, id] = sort(x, 1, true);
  EXPECT_EQ(vd.to_vector<float>(), (std::vector<float>{3, 2, 1, 5, 4, 0}));
  EXPECT_EQ(id.to_vector<std::int64_t>(), (I{0, 2, 1, 1, 2, 0}));
}

TEST(Sort, AlongALeadingDim) {
  const Tensor x = Tensor::from_vector<double>({3, 1, 2, 0, 5, 4}, {2, 3});
  const auto [v, i] = sort(x, 0);
  EXPECT_EQ(v.to_vector<double>(), (std::vector<double>{0, 1, 2, 3, 5, 4}));
  EXPECT_EQ(i.to_vector<std::int64_t>(), (I{1, 0, 0, 0, 1, 1}));
  EXPECT_TRUE(v.is_contiguous());
  // A strided input.
  EXPECT_EQ(argsort(transpose(x, 0, 1), 1, true).to_vector<std::int64_t>(),
            (I{0, 1, 1, 0, 1, 0}));
}

TEST(Sort, TiesKeepIndexOrderBothWays) {
  const Tensor x = Tensor::from_vector<float>({2, 1, 2, 1, 2, 0}, {6});
  EXPECT_EQ(argsort(x).to_vector<std::int64_t>(), (I{5, 1, 3, 0, 2, 4}));
  EXPECT_EQ(argsort(x, 0, true).to_vector<std::int64_t>(), (I{0, 2, 4, 1, 3, 5}));
  const Tensor zeros = Tensor::from_vector<double>({0.0, -0.0, 0.0}, {3});
  EXPECT_EQ(argsort(zeros).to_vector<std::int64_t>(), (I{0, 1, 2}));
}

TEST(Sort, NanSortsLast) {
  const Tensor x = Tensor::from_vector<float>({1, NAN, -1, NAN, 0}, {5});
  EXPECT_EQ(argsort(x).to_vector<std::int64_t>(), (I{2, 4, 0, 1, 3}));
  EXPECT_EQ(argsort(x, 0, true).to_vector<std::int64_t>(), (I{1, 3, 0, 4, 2}));
  // A NaN with the sign bit set (x86's 0/0) is a NaN like the others.
  const Tensor signs = Tensor::from_vector<double>({-NAN, INFINITY, NAN, -INFINITY, -NAN}, {5});
  EXPECT_EQ(argsort(signs).to_vector<std::int64_t>(), (I{3, 1, 0, 2, 4}));
  EXPECT_EQ(argsort(signs, 0, true).to_vector<std::int64_t>(), (I{0, 2, 4, 1, 3}));
}

TEST(Sort, IntegersEmptyAndScalar) {
  const Tensor x = Tensor::from_vector<std::int32_t>({5, -3, 7}, {3});
  EXPECT_EQ(sort(x).values.to_vector<std::int32_t>(), (std::vector<std::int32_t>{-3, 5, 7}));
  const auto [v, i] = sort(Tensor::zeros({2, 0}), 1);
  EXPECT_EQ(v.shape(), (Shape{2, 0}));
  EXPECT_EQ(i.shape(), (Shape{2, 0}));
  const auto [sv, si] = sort(Tensor::scalar(4));
  EXPECT_EQ(sv.dim(), 0);
  EXPECT_EQ(sv.item(), 4);
  EXPECT_EQ(si.item(), 0);
}

TEST(Sort, LongRowsInParallel) {
  // Enough work for the OpenMP path; every row a descending run.
  const std::int64_t rows = 64, len = 1000;
  std::vector<float> values(rows * len);
  for (std::int64_t r = 0; r < rows; ++r)
    for (std::int64_t k = 0; k < len; ++k) values[r * len + k] = static_cast<float>(len - k);
  const auto idx = argsort(Tensor::from_vector(values, {rows, len})).to_vector<std::int64_t>();
  for (std::int64_t r = 0; r < rows; ++r)
    for (std::int64_t k = 0; k < len; ++k) ASSERT_EQ(idx[r * len + k], len - 1 - k);
}

TEST(Sort, BadDimThrows) {
  EXPECT_THROW(sort(Tensor::zeros({2, 3}), 2), Error);
  EXPECT_THROW(argsort(Tensor::zeros({2, 3}), -3), Error);
  EXPECT_THROW(sort(Tensor::scalar(1), 1), Error);
}

TEST(Sort, GradientFollowsThePermutation) {
  for (bool descending : {false, true}) {
    EXPECT_TRUE(gradcheck(
        [&](const std::vector<Tensor>& in) { return sort(in[0], 1, descending).values; },
        {random_tensor({3, 5}, 1)}));
    EXPECT_TRUE(gradcheck(
        [&](const std::vector<Tensor>& in) { return sort(in[0], 0, descending).values; },
        {random_tensor({4, 2, 3}, 2)}));
  }
}

TEST(Sort, ArgsortHasNoGradient) {
  Tensor x = random_tensor({4}, 3).set_requires_grad(true);
  EXPECT_FALSE(argsort(x).requires_grad());
  EXPECT_FALSE(sort(x).indices.requires_grad());
  EXPECT_TRUE(sort(x).values.requires_grad());
}

}  // namespace
}  // namespace laplex
