// Diagonal Gaussian: NLL and gradients against the dense float64 oracle,
// finite differences, samples, YAML.
#include "layers/covariance/diagonal.h"

#include <gtest/gtest.h>

#include "helpers/gaussian_oracle.h"
#include "helpers/gradcheck.h"
#include "helpers/vector_compare.h"
#include "layers/covariance/density_test_util.h"

namespace laplex::testing {
namespace {

std::shared_ptr<DiagonalGaussian> make(std::int64_t n) {
  auto m =
      std::make_shared<DiagonalGaussian>(DiagonalGaussianOptions{.dims = n, .dtype = DType::f64});
  m->mu.copy_(Tensor::from_vector(uniform_values(n, 1, -0.5, 0.5), {n}));
  m->scale.copy_(Tensor::from_vector(uniform_values(n, 2, -1.0, 1.0), {n}));
  return m;
}

TEST(DiagonalGaussian, MatchesDenseGaussian) {
  const std::int64_t n = 50, batch = 3;
  auto m = make(n);
  const auto raw = m->scale.to_vector<double>();
  std::vector<double> sigma(n * n, 0.0);
  for (std::int64_t i = 0; i < n; ++i) sigma[i * n + i] = softplus_d(raw[i]) * softplus_d(raw[i]);
  const auto x = uniform_values(batch * n, 3, -2, 2);
  const std::vector<double> w{1.0, -0.4, 0.9};
  const auto want = dense_gaussian(sigma, m->mu.to_vector<double>(), x, w);
  const auto got = run_model(*m, Tensor::from_vector(x, {batch, n}), w);
  std::vector<double> dscale(n);
  for (std::int64_t i = 0; i < n; ++i)
    dscale[i] = 2 * want.dsigma[i * n + i] * softplus_d(raw[i]) * sigmoid_d(raw[i]);
  EXPECT_TRUE(vectors_close("nll", got.nll, want.nll, 1e-10));
  EXPECT_TRUE(vectors_close("dx", got.dx, want.dx, 1e-10));
  EXPECT_TRUE(vectors_close("dmu", got.grads.at("mu"), want.dmu, 1e-10));
  EXPECT_TRUE(vectors_close("dscale", got.grads.at("scale"), dscale, 1e-10));
}

TEST(DiagonalGaussian, GradientsMatchFiniteDifferences) {
  auto m = make(7);
  EXPECT_TRUE(gradcheck(
      [&m](const std::vector<Tensor>& in) {
        m->mu = in[1];
        m->scale = in[2];
        return m->nll(in[0]);
      },
      {random_tensor({3, 7}, 1), random_tensor({7}, 2), random_tensor({7}, 3)}));
}

TEST(DiagonalGaussian, SamplesAndYaml) {
  auto m = make(4);
  Generator g(3);
  const auto raw = m->scale.to_vector<double>();
  std::vector<double> sigma(16, 0.0);
  for (int i = 0; i < 4; ++i) sigma[i * 4 + i] = softplus_d(raw[i]) * softplus_d(raw[i]);
  expect_sample_moments(m->sample(100000, g).to_vector<double>(), 4, m->mu.to_vector<double>(),
                        sigma);
  auto built = std::dynamic_pointer_cast<DiagonalGaussian>(
      build_density("{type: diagonal, dims: 12, image: [3, 2, 2], scale_init: 0.3}"));
  ASSERT_TRUE(built);
  EXPECT_EQ(built->parameter_count(), 24);
  EXPECT_NEAR(softplus_d(built->scale.to_vector<double>()[5]), 0.3, 1e-6);
  EXPECT_NE(usage_error("{type: diagonal, dims: 12, image: [3, 2, 3]}").find("image"),
            std::string::npos);
  EXPECT_NE(usage_error("{type: diagonal, dims: -1}").find("dims"), std::string::npos);
  EXPECT_NE(usage_error("{type: diagonal, dims: 3, scale_init: 0}").find("scale_init"),
            std::string::npos);
  EXPECT_NE(usage_error("{type: diagonal, dims: 3, rank: 2}").find("rank"), std::string::npos);
}

// A unit-variance Gaussian over [0, 1]-scaled 8-bit pixels: its NLL per
// dimension in nats plus log 256, in bits.
TEST(DiagonalGaussian, BitsPerDimension) {
  const double nll = 10 * 0.5 * std::log(2 * M_PI);
  EXPECT_NEAR(bits_per_dimension(nll, 10),
              (0.5 * std::log(2 * M_PI) + std::log(256.0)) / std::log(2.0), 1e-12);
  EXPECT_NEAR(bits_per_dimension(-784 * std::log(256.0), 784), 0.0, 1e-12);
}

}  // namespace
}  // namespace laplex::testing
