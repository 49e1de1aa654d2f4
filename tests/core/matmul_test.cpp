#include <gtest/gtest.h>

#include "core/ops/gemm.h"
#include "core/ops/matmul.h"
#include "core/ops/reduce.h"
#include "core/ops/view.h"
#include "helpers/gradcheck.h"

namespace laplex {
namespace {

using testing::all_close;
using testing::gradcheck;
using testing::random_tensor;

// Naive float64 product of row-major (m,k) x (k,n).
Tensor reference_mm(const Tensor& a, const Tensor& b) {
  const auto va = a.contiguous().to_vector<double>(), vb = b.contiguous().to_vector<double>();
  const std::int64_t m = a.size(0), k = a.size(1), n = b.size(1);
  std::vector<double> out(m * n, 0.0);
  for (std::int64_t i = 0; i < m; ++i)
    for (std::int64_t j = 0; j < n; ++j)
      for (std::int64_t p = 0; p < k; ++p) out[i * n + j] += va[i * k + p] * vb[p * n + j];
  return Tensor::from_vector(out, {m, n});
}

TEST(Matmul, ValuesIncludingTransposedViews) {
  const Tensor a = random_tensor({5, 3}, 1), b = random_tensor({3, 4}, 2);
  EXPECT_TRUE(all_close(matmul(a, b), reference_mm(a, b), 1e-12, 1e-12));
  const Tensor at = transpose(random_tensor({3, 5}, 3), 0, 1);  // strides (1, 5)
  const Tensor bt = transpose(random_tensor({4, 3}, 4), 0, 1);
  EXPECT_TRUE(all_close(matmul(at, bt), reference_mm(at, bt), 1e-12, 1e-12));
  const Tensor sliced = slice(random_tensor({5, 6}, 5), 1, 1, 4);  // ld 6 > cols 3
  EXPECT_TRUE(all_close(matmul(sliced, b), reference_mm(sliced, b), 1e-12, 1e-12));
  EXPECT_THROW(matmul(a, a), Error);
}

TEST(Matmul, Gradients2dBatchedAndVector) {
  EXPECT_TRUE(gradcheck([](const auto& in) { return matmul(in[0], in[1]); },
                        {random_tensor({4, 3}, 1), random_tensor({3, 2}, 2)}));
  EXPECT_TRUE(gradcheck([](const auto& in) { return matmul(in[0], in[1]); },
                        {random_tensor({2, 4, 3}, 3), random_tensor({2, 3, 5}, 4)}));
  EXPECT_TRUE(gradcheck([](const auto& in) { return matmul(in[0], in[1]); },
                        {random_tensor({2, 4, 3}, 5), random_tensor({3, 5}, 6)}));
  EXPECT_TRUE(gradcheck([](const auto& in) { return matmul(in[0], in[1]); },
                        {random_tensor({4, 3}, 7), random_tensor({3}, 8)}));
}

TEST(Linear, MatchesMatmulAndHasGradients) {
  const Tensor x = random_tensor({6, 4}, 1), w = random_tensor({3, 4}, 2), b = random_tensor({3}, 3);
  const Tensor expected = reference_mm(x, transpose(w, 0, 1));
  auto e = expected.to_vector<double>();
  const auto vb = b.to_vector<double>();
  for (std::size_t i = 0; i < e.size(); ++i) e[i] += vb[i % 3];
  EXPECT_TRUE(all_close(linear(x, w, b), Tensor::from_vector(e, {6, 3}), 1e-12, 1e-12));
  EXPECT_TRUE(gradcheck([](const auto& in) { return linear(in[0], in[1], in[2]); }, {x, w, b}));
  EXPECT_TRUE(gradcheck([](const auto& in) { return linear(in[0], in[1], Tensor()); }, {x, w}));
  EXPECT_TRUE(gradcheck([](const auto& in) { return linear(in[0], in[1], in[2]); },
                        {random_tensor({2, 3, 4}, 4), w, b}));
  EXPECT_THROW(linear(random_tensor({2, 5}, 1), w, b), Error);
}

// With only some inputs needing a gradient, the op computes just those (a
// first layer skips its input's product) and they equal the full run's.
TEST(Matmul, PartialRequiresGradComputesOnlyWhatIsNeeded) {
  using Op = Tensor (*)(const Tensor&, const Tensor&);
  struct Case {
    Shape a, b;
    Op op;
  };
  const Op linear_no_bias = [](const Tensor& a, const Tensor& b) { return linear(a, b, Tensor()); };
  const std::vector<Case> cases = {{{6, 4}, {3, 4}, linear_no_bias},
                                   {{4, 3}, {3, 2}, &matmul},
                                   {{2, 4, 3}, {2, 3, 5}, &matmul},
                                   {{2, 4, 3}, {3, 5}, &matmul}};
  for (const Case& c : cases) {
    const Tensor a0 = random_tensor(c.a, 1), b0 = random_tensor(c.b, 2);
    Tensor a_all = a0.clone().set_requires_grad(true), b_all = b0.clone().set_requires_grad(true);
    sum(c.op(a_all, b_all)).backward();
    for (int which = 0; which < 2; ++which) {
      Tensor a = a0.clone().set_requires_grad(which == 0);
      Tensor b = b0.clone().set_requires_grad(which == 1);
      sum(c.op(a, b)).backward();
      const Tensor& needed = which == 0 ? a : b;
      const Tensor& other = which == 0 ? b : a;
      EXPECT_TRUE(all_close(needed.grad(), which == 0 ? a_all.grad() : b_all.grad(), 1e-12, 1e-12));
      EXPECT_FALSE(other.grad().defined());
    }
  }
}

// Empty products: nothing to compute, and an empty K gives zeros.
TEST(Matmul, EmptySidesGiveEmptyOrZeroResults) {
  EXPECT_EQ(matmul(Tensor::ones({4, 3}), Tensor::ones({3, 0})).shape(), (Shape{4, 0}));
  EXPECT_EQ(matmul(Tensor::ones({0, 3}), Tensor::ones({3, 5})).shape(), (Shape{0, 5}));
  EXPECT_EQ(matmul(Tensor::ones({2, 4, 3}), Tensor::ones({2, 3, 0})).shape(), (Shape{2, 4, 0}));
  EXPECT_EQ(linear(Tensor::ones({4, 3}), Tensor::ones({0, 3}), Tensor()).shape(), (Shape{4, 0}));
  const Tensor zero_k = matmul(Tensor::ones({2, 0}), Tensor::ones({0, 3}));
  EXPECT_EQ(zero_k.to_vector<float>(), std::vector<float>(6, 0.0f));
}

// The BLAS calls take int sizes: a larger one is refused by name, never
// wrapped (2^31 + 8 rows would have computed 8 and left the rest unwritten).
TEST(Matmul, SizesBeyondTheBlasIntAreRefused) {
  const Tensor a = Tensor::ones({2, 2}), b = Tensor::ones({2, 2}), out = Tensor::empty({2, 2});
  GemmCall call{gemm_operand(a), gemm_operand(b), 2, 2, 2};
  call.m = (std::int64_t{1} << 31) + 8;
  try {
    run_gemm(call, out);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("2147483656 exceeds the BLAS libraries' 32-bit sizes"),
              std::string::npos)
        << e.what();
  }
  call.m = 2;
  run_gemm(call, out);
  EXPECT_EQ(out.to_vector<float>(), std::vector<float>(4, 2.0f));
}

}  // namespace
}  // namespace laplex
