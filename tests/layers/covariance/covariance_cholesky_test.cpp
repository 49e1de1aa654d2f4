// The cholesky and triangular_solve ops of the Gaussian baselines: values
// and float64 finite-difference gradients.
#include <gtest/gtest.h>

#include "core/ops/elementwise.h"
#include "core/ops/matmul.h"
#include "core/ops/view.h"
#include "helpers/gradcheck.h"
#include "layers/covariance/cholesky_op.h"

namespace laplex::testing {
namespace {

// X X^T / k: positive semidefinite; eye_plus makes it well conditioned.
Tensor spd(std::int64_t k, std::uint64_t seed) {
  const Tensor x = random_tensor({k, k}, seed);
  return div(matmul(x, transpose(x, 0, 1)), static_cast<double>(k)).detach();
}

Tensor eye_plus(const Tensor& a) {
  const std::int64_t k = a.size(0);
  std::vector<double> eye(k * k, 0.0);
  for (std::int64_t i = 0; i < k; ++i) eye[i * k + i] = 1.0;
  return add(a, Tensor::from_vector(eye, {k, k})).detach();
}

TEST(CovarianceCholesky, FactorReproducesTheMatrix) {
  for (const DType dtype : {DType::f64, DType::f32}) {
    const Tensor a = eye_plus(spd(17, 1)).to(dtype);
    const Tensor l = cholesky(a);
    EXPECT_TRUE(all_close(matmul(l, transpose(l, 0, 1)).to(DType::f64), a.to(DType::f64),
                          dtype == DType::f64 ? 1e-12 : 1e-5, 1e-5));
    const auto lv = l.to_vector<double>();
    for (int i = 0; i < 17; ++i)
      for (int j = i + 1; j < 17; ++j) EXPECT_EQ(lv[i * 17 + j], 0.0);
    // The solve inverts the factor.
    const Tensor b = random_tensor({17, 3}, 2).to(dtype);
    EXPECT_TRUE(all_close(matmul(l, triangular_solve(l, b)).to(DType::f64), b.to(DType::f64),
                          dtype == DType::f64 ? 1e-12 : 1e-5, 1e-5));
  }
  EXPECT_THROW(cholesky(Tensor::from_vector(std::vector<double>{1, 2, 2, 1}, {2, 2})), Error);
}

TEST(CovarianceCholesky, GradientsMatchFiniteDifferences) {
  EXPECT_TRUE(gradcheck([](const std::vector<Tensor>& in) { return cholesky(in[0]); },
                        {eye_plus(spd(6, 3))}));
  // An SPD input built inside: gradients through the product too.
  EXPECT_TRUE(gradcheck(
      [](const std::vector<Tensor>& in) {
        return cholesky(add(matmul(in[0], transpose(in[0], 0, 1)), eye_plus(spd(5, 9))));
      },
      {random_tensor({5, 3}, 4)}));
  EXPECT_TRUE(
      gradcheck([](const std::vector<Tensor>& in) { return triangular_solve(in[0], in[1]); },
                {add(random_tensor({6, 6}, 5, -0.3, 0.3), eye_plus(spd(6, 6))).detach(),
                 random_tensor({6, 4}, 7)}));
}

}  // namespace
}  // namespace laplex::testing
