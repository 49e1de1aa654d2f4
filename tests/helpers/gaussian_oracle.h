#pragma once
// The dense float64 Gaussian oracle for the covariance models: the exact
// NLL of x ~ N(mu, Sigma) for a materialised Sigma, by a Cholesky
// factorisation written here (independent of the code under test), with its
// exact derivatives with respect to Sigma, mu and x. A test chains dSigma
// through its own dense Sigma(parameters) to get every parameter gradient.
#include <cstdint>
#include <vector>

namespace laplex::testing {

struct DenseGaussian {
  std::vector<double> nll;     // (B)
  std::vector<double> dsigma;  // (n, n) sum_b w_b dNLL_b/dSigma, symmetric
  std::vector<double> dmu;     // (n)   sum_b w_b dNLL_b/dmu
  std::vector<double> dx;      // (B, n) w_b dNLL_b/dx_b
};

// sigma (n, n) row-major symmetric positive definite, mu (n), x (B, n),
// weights (B): the loss whose gradients are returned is sum_b w_b NLL_b.
DenseGaussian dense_gaussian(const std::vector<double>& sigma, const std::vector<double>& mu,
                             const std::vector<double>& x, const std::vector<double>& weights);

// Lower Cholesky factor of a symmetric positive definite (n, n) matrix.
std::vector<double> dense_cholesky(const std::vector<double>& a, std::int64_t n);

}  // namespace laplex::testing
