#pragma once
// Shared by the covariance model tests: run a model's NLL with a weighted
// sum as the loss and collect every gradient; random inputs; YAML building.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "core/ops/elementwise.h"
#include "core/ops/reduce.h"
#include "layers/covariance/density_model.h"
#include "layers/registry.h"

namespace laplex::testing {

inline double softplus_d(double x) {
  return std::max(x, 0.0) + std::log1p(std::exp(-std::fabs(x)));
}
inline double sigmoid_d(double x) { return 1 / (1 + std::exp(-x)); }

inline std::vector<double> uniform_values(std::int64_t n, std::uint64_t seed, double lo,
                                          double hi) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(lo, hi);
  std::vector<double> v(n);
  for (auto& x : v) x = u(rng);
  return v;
}

struct ModelRun {
  std::vector<double> nll, dx;
  std::map<std::string, std::vector<double>> grads;  // by parameter name
};

// loss = sum_b w_b NLL_b; unused parameters get zero gradients.
inline ModelRun run_model(DensityModel& m, const Tensor& x, const std::vector<double>& w) {
  for (Tensor p : m.parameters()) p.zero_grad();
  Tensor xg = x.detach().clone().set_requires_grad(true);
  const Tensor nll = m.nll(xg);
  sum(mul(nll, Tensor::from_vector(w, {static_cast<std::int64_t>(w.size())}).to(x.dtype())))
      .backward();
  ModelRun out{nll.to_vector<double>(), xg.grad().to_vector<double>(), {}};
  for (const auto& [name, p] : m.named_parameters())
    out.grads[name] =
        p.grad().defined() ? p.grad().to_vector<double>() : std::vector<double>(p.numel(), 0.0);
  return out;
}

// Empirical mean and covariance of (count, n) samples against mu and Sigma.
inline void expect_sample_moments(const std::vector<double>& s, std::int64_t n,
                                  const std::vector<double>& mu, const std::vector<double>& sigma,
                                  double tolerance = 0.02) {
  const auto count = static_cast<std::int64_t>(s.size()) / n;
  for (std::int64_t i = 0; i < n; ++i) {
    double mean = 0;
    for (std::int64_t k = 0; k < count; ++k) mean += s[k * n + i];
    mean /= count;
    EXPECT_NEAR(mean, mu[i], 5 * std::sqrt(sigma[i * n + i] / count)) << i;
    for (std::int64_t j = 0; j < n; ++j) {
      double c = 0;
      for (std::int64_t k = 0; k < count; ++k) c += (s[k * n + i] - mu[i]) * (s[k * n + j] - mu[j]);
      c /= count;
      EXPECT_NEAR(c, sigma[i * n + j], tolerance * std::sqrt(sigma[i * n + i] * sigma[j * n + j]))
          << i << "," << j;
    }
  }
}

inline std::shared_ptr<Module> build_density(const std::string& yaml) {
  BuildContext context{3};
  return build_module(config::ConfigNode(YAML::Load(yaml), "test.yaml", "model"), context);
}

// The UsageError message building `yaml` gives ("no error" when none).
inline std::string usage_error(const std::string& yaml) {
  try {
    build_density(yaml);
  } catch (const UsageError& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace laplex::testing
