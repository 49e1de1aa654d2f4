// PPCA: NLL and gradients against the dense float64 oracle (Sigma = W W^T +
// diag(psi) materialised), finite differences, samples, YAML.
#include "layers/covariance/ppca.h"

#include <gtest/gtest.h>

#include "helpers/gaussian_oracle.h"
#include "helpers/gradcheck.h"
#include "helpers/vector_compare.h"
#include "layers/covariance/density_test_util.h"

namespace laplex::testing {
namespace {

std::shared_ptr<Ppca> make(std::int64_t n, std::int64_t k) {
  auto m = std::make_shared<Ppca>(PpcaOptions{.dims = n, .rank = k, .dtype = DType::f64}, 4);
  m->mu.copy_(Tensor::from_vector(uniform_values(n, 1, -0.5, 0.5), {n}));
  m->w.copy_(Tensor::from_vector(uniform_values(n * k, 2, -0.7, 0.7), {n, k}));
  m->psi.copy_(Tensor::from_vector(uniform_values(n, 3, -2.0, 0.5), {n}));
  return m;
}

std::vector<double> dense_sigma(const Ppca& m) {
  const std::int64_t n = m.dims(), k = m.rank();
  const auto w = m.w.to_vector<double>(), raw = m.psi.to_vector<double>();
  std::vector<double> s(n * n, 0.0);
  for (std::int64_t i = 0; i < n; ++i) {
    for (std::int64_t j = 0; j < n; ++j)
      for (std::int64_t r = 0; r < k; ++r) s[i * n + j] += w[i * k + r] * w[j * k + r];
    s[i * n + i] += softplus_d(raw[i]);
  }
  return s;
}

TEST(Ppca, MatchesDenseGaussian) {
  for (const auto [n, k] : {std::pair<std::int64_t, std::int64_t>{1, 1}, {60, 5}, {200, 12}}) {
    SCOPED_TRACE(n);
    auto m = make(n, k);
    const std::int64_t batch = 4;
    const auto x = uniform_values(batch * n, 5, -2, 2);
    const std::vector<double> wt{0.5, 1.0, -1.5, 0.2};
    const auto want = dense_gaussian(dense_sigma(*m), m->mu.to_vector<double>(), x, wt);
    const auto got = run_model(*m, Tensor::from_vector(x, {batch, n}), wt);
    // dW = 2 G W (G symmetric), dpsi = diag(G) softplus'(raw).
    const auto w = m->w.to_vector<double>(), raw = m->psi.to_vector<double>();
    std::vector<double> dw(n * k, 0.0), dpsi(n);
    for (std::int64_t i = 0; i < n; ++i) {
      for (std::int64_t r = 0; r < k; ++r)
        for (std::int64_t j = 0; j < n; ++j)
          dw[i * k + r] += 2 * want.dsigma[i * n + j] * w[j * k + r];
      dpsi[i] = want.dsigma[i * n + i] * sigmoid_d(raw[i]);
    }
    EXPECT_TRUE(vectors_close("nll", got.nll, want.nll, 1e-9));
    EXPECT_TRUE(vectors_close("dx", got.dx, want.dx, 1e-9));
    EXPECT_TRUE(vectors_close("dmu", got.grads.at("mu"), want.dmu, 1e-9));
    EXPECT_TRUE(vectors_close("dw", got.grads.at("w"), dw, 1e-9));
    EXPECT_TRUE(vectors_close("dpsi", got.grads.at("psi"), dpsi, 1e-9));
  }
}

TEST(Ppca, GradientsMatchFiniteDifferences) {
  auto m = make(8, 3);
  EXPECT_TRUE(gradcheck(
      [&m](const std::vector<Tensor>& in) {
        m->mu = in[1];
        m->w = in[2];
        m->psi = in[3];
        return m->nll(in[0]);
      },
      {random_tensor({3, 8}, 1), random_tensor({8}, 2), random_tensor({8, 3}, 3),
       random_tensor({8}, 4)}));
}

TEST(Ppca, SamplesAndYaml) {
  auto m = make(5, 2);
  Generator g(8);
  expect_sample_moments(m->sample(200000, g).to_vector<double>(), 5, m->mu.to_vector<double>(),
                        dense_sigma(*m));
  auto built = std::dynamic_pointer_cast<Ppca>(build_density("{type: ppca, dims: 784, rank: 64}"));
  ASSERT_TRUE(built);
  EXPECT_EQ(built->parameter_count(), 784 * 66);
  EXPECT_TRUE(std::isfinite(built->nll(Tensor::zeros({2, 784})).to_vector<double>()[0]));
  EXPECT_NE(usage_error("{type: ppca, dims: 10}").find("rank"), std::string::npos);
  EXPECT_NE(usage_error("{type: ppca, dims: 10, rank: 0}").find("rank"), std::string::npos);
  EXPECT_NE(usage_error("{type: ppca, dims: 10, rank: 11}").find("rank"), std::string::npos);
}

}  // namespace
}  // namespace laplex::testing
