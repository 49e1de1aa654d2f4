#include "helpers/gaussian_oracle.h"

#include <cmath>
#include <numbers>
#include <stdexcept>

namespace laplex::testing {

std::vector<double> dense_cholesky(const std::vector<double>& a, std::int64_t n) {
  std::vector<double> l(n * n, 0.0);
  for (std::int64_t j = 0; j < n; ++j) {
    double diag = a[j * n + j];
    for (std::int64_t k = 0; k < j; ++k) diag -= l[j * n + k] * l[j * n + k];
    if (!(diag > 0)) throw std::runtime_error("dense_cholesky: not positive definite");
    l[j * n + j] = std::sqrt(diag);
    for (std::int64_t i = j + 1; i < n; ++i) {
      double v = a[i * n + j];
      for (std::int64_t k = 0; k < j; ++k) v -= l[i * n + k] * l[j * n + k];
      l[i * n + j] = v / l[j * n + j];
    }
  }
  return l;
}

namespace {

// Solves L L^T z = r in place.
void cholesky_solve(const std::vector<double>& l, std::int64_t n, std::vector<double>& r) {
  for (std::int64_t i = 0; i < n; ++i) {
    for (std::int64_t k = 0; k < i; ++k) r[i] -= l[i * n + k] * r[k];
    r[i] /= l[i * n + i];
  }
  for (std::int64_t i = n - 1; i >= 0; --i) {
    for (std::int64_t k = i + 1; k < n; ++k) r[i] -= l[k * n + i] * r[k];
    r[i] /= l[i * n + i];
  }
}

}  // namespace

DenseGaussian dense_gaussian(const std::vector<double>& sigma, const std::vector<double>& mu,
                             const std::vector<double>& x, const std::vector<double>& weights) {
  const auto n = static_cast<std::int64_t>(mu.size());
  const auto batch = static_cast<std::int64_t>(weights.size());
  const auto l = dense_cholesky(sigma, n);
  double logdet = 0;
  for (std::int64_t i = 0; i < n; ++i) logdet += 2 * std::log(l[i * n + i]);
  // Sigma^{-1}, column by column.
  std::vector<double> inverse(n * n);
  for (std::int64_t j = 0; j < n; ++j) {
    std::vector<double> e(n, 0.0);
    e[j] = 1;
    cholesky_solve(l, n, e);
    for (std::int64_t i = 0; i < n; ++i) inverse[i * n + j] = e[i];
  }
  DenseGaussian out;
  out.nll.resize(batch);
  out.dsigma.assign(n * n, 0.0);
  out.dmu.assign(n, 0.0);
  out.dx.assign(batch * n, 0.0);
  double weight_sum = 0;
  for (std::int64_t b = 0; b < batch; ++b) {
    std::vector<double> z(n);
    for (std::int64_t i = 0; i < n; ++i) z[i] = x[b * n + i] - mu[i];
    std::vector<double> r = z;
    cholesky_solve(l, n, z);
    double quad = 0;
    for (std::int64_t i = 0; i < n; ++i) quad += r[i] * z[i];
    out.nll[b] = 0.5 * (n * std::log(2 * std::numbers::pi) + logdet + quad);
    // dNLL/dSigma = (Sigma^{-1} - z z^T) / 2, dNLL/dx = z = -dNLL/dmu.
    const double w = weights[b];
    weight_sum += w;
    for (std::int64_t i = 0; i < n; ++i) {
      out.dx[b * n + i] = w * z[i];
      out.dmu[i] -= w * z[i];
      for (std::int64_t j = 0; j < n; ++j) out.dsigma[i * n + j] -= 0.5 * w * z[i] * z[j];
    }
  }
  for (std::int64_t k = 0; k < n * n; ++k) out.dsigma[k] += 0.5 * weight_sum * inverse[k];
  return out;
}

}  // namespace laplex::testing
