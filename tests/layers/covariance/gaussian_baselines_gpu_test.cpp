// The Gaussian baselines and their linear-algebra ops on CUDA against the
// CPU: NLL and every gradient. Skips without a GPU.
#include <gtest/gtest.h>

#include "core/ops/elementwise.h"
#include "core/ops/matmul.h"
#include "core/ops/view.h"
#include "helpers/device_twin.h"
#include "helpers/gradcheck.h"
#include "layers/covariance/cholesky_op.h"
#include "layers/covariance/diagonal.h"
#include "layers/covariance/full_gaussian.h"
#include "layers/covariance/ppca.h"

namespace laplex::testing {
namespace {

Tensor f32(const Shape& shape, std::uint64_t seed, double lo = -1, double hi = 1) {
  return random_tensor(shape, seed, lo, hi).to(DType::f32);
}

TEST(CovarianceGpu, CholeskyAndSolveMatchCpu) {
  LAPLEX_REQUIRE_GPU();
  auto f = [](const std::vector<Tensor>& in) {
    const Tensor a = add(matmul(in[0], transpose(in[0], 0, 1)), mul(in[1], 4.0));
    return triangular_solve(cholesky(a), in[2]);
  };
  std::vector<float> eye(36, 0.0f);
  for (int i = 0; i < 6; ++i) eye[i * 6 + i] = 1.0f;
  EXPECT_TRUE(check_device_twin(
      f, {f32({6, 6}, 1), Tensor::from_vector(eye, {6, 6}), f32({6, 3}, 2)}, {0, 2}));
}

TEST(CovarianceGpu, BaselinesMatchCpu) {
  LAPLEX_REQUIRE_GPU();
  auto diagonal = [](const std::vector<Tensor>& in) {
    DiagonalGaussian m({.dims = 20});
    m.mu = in[1];
    m.scale = in[2];
    return m.nll(in[0]);
  };
  EXPECT_TRUE(
      check_device_twin(diagonal, {f32({4, 20}, 1), f32({20}, 2), f32({20}, 3)}, {0, 1, 2}));
  auto ppca = [](const std::vector<Tensor>& in) {
    Ppca m({.dims = 30, .rank = 4}, 1);
    m.mu = in[1];
    m.w = in[2];
    m.psi = in[3];
    return m.nll(in[0]);
  };
  EXPECT_TRUE(check_device_twin(
      ppca, {f32({4, 30}, 4), f32({30}, 5), f32({30, 4}, 6), f32({30}, 7)}, {0, 1, 2, 3}));
  auto full = [](const std::vector<Tensor>& in) {
    FullGaussian m({.dims = 12});
    m.mu = in[1];
    m.l = in[2];
    return m.nll(in[0]);
  };
  EXPECT_TRUE(check_device_twin(full, {f32({4, 12}, 8), f32({12}, 9), f32({12, 12}, 10, 0.5, 1.0)},
                                {0, 1, 2}));
}

}  // namespace
}  // namespace laplex::testing
