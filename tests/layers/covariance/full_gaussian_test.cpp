// Full-covariance Gaussian: NLL and gradients against the dense float64
// oracle (Sigma = L L^T materialised), finite differences, samples, the
// size limit and YAML.
#include "layers/covariance/full_gaussian.h"

#include <gtest/gtest.h>

#include "helpers/gaussian_oracle.h"
#include "helpers/gradcheck.h"
#include "helpers/vector_compare.h"
#include "layers/covariance/density_test_util.h"

namespace laplex::testing {
namespace {

std::shared_ptr<FullGaussian> make(std::int64_t n) {
  auto m = std::make_shared<FullGaussian>(FullGaussianOptions{.dims = n, .dtype = DType::f64});
  m->mu.copy_(Tensor::from_vector(uniform_values(n, 1, -0.5, 0.5), {n}));
  auto l = uniform_values(n * n, 2, -0.3, 0.3);
  for (std::int64_t i = 0; i < n; ++i) l[i * n + i] += 1.0;
  m->l.copy_(Tensor::from_vector(l, {n, n}));
  return m;
}

// The factor the model should use: tril(l, -1) + diag(softplus(diag l)).
std::vector<double> dense_factor(const FullGaussian& m) {
  const std::int64_t n = m.dims();
  auto l = m.l.to_vector<double>();
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t j = i; j < n; ++j) l[i * n + j] = i == j ? softplus_d(l[i * n + j]) : 0.0;
  return l;
}

TEST(FullGaussian, MatchesDenseGaussian) {
  const std::int64_t n = 40, batch = 3;
  auto m = make(n);
  const auto l = dense_factor(*m), raw = m->l.to_vector<double>();
  std::vector<double> sigma(n * n, 0.0);
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t j = 0; j < n; ++j)
      for (std::int64_t r = 0; r < n; ++r) sigma[i * n + j] += l[i * n + r] * l[j * n + r];
  const auto x = uniform_values(batch * n, 3, -2, 2);
  const std::vector<double> w{1.0, 0.3, -2.0};
  const auto want = dense_gaussian(sigma, m->mu.to_vector<double>(), x, w);
  const auto got = run_model(*m, Tensor::from_vector(x, {batch, n}), w);
  // dL = 2 G L, kept on the lower triangle; the diagonal through softplus.
  std::vector<double> dl(n * n, 0.0);
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t j = 0; j <= i; ++j) {
      double v = 0;
      for (std::int64_t r = 0; r < n; ++r) v += 2 * want.dsigma[i * n + r] * l[r * n + j];
      dl[i * n + j] = i == j ? v * sigmoid_d(raw[i * n + i]) : v;
    }
  EXPECT_TRUE(vectors_close("nll", got.nll, want.nll, 1e-9));
  EXPECT_TRUE(vectors_close("dx", got.dx, want.dx, 1e-9));
  EXPECT_TRUE(vectors_close("dmu", got.grads.at("mu"), want.dmu, 1e-9));
  EXPECT_TRUE(vectors_close("dl", got.grads.at("l"), dl, 1e-9));
}

TEST(FullGaussian, GradientsMatchFiniteDifferences) {
  auto m = make(5);
  const Tensor l = m->l.detach().clone();
  EXPECT_TRUE(gradcheck(
      [&m](const std::vector<Tensor>& in) {
        m->mu = in[1];
        m->l = in[2];
        return m->nll(in[0]);
      },
      {random_tensor({3, 5}, 1), random_tensor({5}, 2), l}));
}

TEST(FullGaussian, SamplesLimitAndYaml) {
  auto m = make(4);
  Generator g(2);
  const auto l = dense_factor(*m);
  std::vector<double> sigma(16, 0.0);
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 4; ++j)
      for (int r = 0; r < 4; ++r) sigma[i * 4 + j] += l[i * 4 + r] * l[j * 4 + r];
  expect_sample_moments(m->sample(200000, g).to_vector<double>(), 4, m->mu.to_vector<double>(),
                        sigma);
  auto built = std::dynamic_pointer_cast<FullGaussian>(build_density("{type: full, dims: 6}"));
  ASSERT_TRUE(built);
  EXPECT_EQ(built->parameter_count(), 6 + 36);
  const std::string too_big = usage_error("{type: full, dims: 5000}");
  EXPECT_NE(too_big.find("dims"), std::string::npos) << too_big;
  EXPECT_NE(too_big.find("max_dims"), std::string::npos) << too_big;
  EXPECT_EQ(usage_error("{type: full, dims: 20, max_dims: 30}"), "no error");
  EXPECT_THROW(FullGaussian(FullGaussianOptions{.dims = 5000}), UsageError);
}

}  // namespace
}  // namespace laplex::testing
