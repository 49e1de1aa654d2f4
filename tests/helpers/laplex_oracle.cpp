#include "helpers/laplex_oracle.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <random>
#include <utility>

namespace laplex::testing {

namespace {

double softplus(double r) { return std::log1p(std::exp(r)); }

// kappa(d) and its partial derivatives for one head.
struct Kernel {
  double value, d_d, d_alpha, d_omega, d_phi;
};

Kernel kernel(double d, double alpha, double omega, double phi) {
  const double a = d >= 0 ? d : -d;
  const double sign = d >= 0 ? 1.0 : -1.0;
  const double e = std::exp(-alpha * a);
  const double c = std::cos(omega * d + phi), s = std::sin(omega * d + phi);
  return {e * c, -alpha * sign * e * c - omega * e * s, -a * e * c, -d * e * s, -e * s};
}

double gain(const std::vector<double>& g, std::size_t k) { return g.empty() ? 1.0 : g[k]; }

double omega_of(const LaplexProblem& p, std::int64_t h) { return p.phased ? p.omega[h] : 0.0; }
double phi_of(const LaplexProblem& p, std::int64_t h) { return p.phased ? p.phi[h] : 0.0; }

}  // namespace

LaplexProblem random_laplex_problem(std::int64_t batch, std::int64_t m, std::int64_t n,
                                    std::int64_t heads, bool phased, bool gains,
                                    std::uint64_t seed, double span) {
  std::mt19937_64 rng(seed);
  auto fill = [&](std::vector<double>& out, std::int64_t count, double lo, double hi) {
    std::uniform_real_distribution<double> dist(lo, hi);
    out.resize(count);
    for (auto& value : out) value = dist(rng);
  };
  LaplexProblem p;
  p.batch = batch;
  p.m = m;
  p.n = n;
  p.heads = heads;
  p.phased = phased;
  fill(p.t, heads * m, -span, span);
  fill(p.s, heads * n, -span, span);
  if (gains) {
    fill(p.u, heads * m, 0.5, 1.5);
    fill(p.v, heads * n, 0.5, 1.5);
  }
  fill(p.rho, heads, -1, 1);
  fill(p.omega, heads, -2, 2);
  fill(p.phi, heads, -M_PI, M_PI);
  fill(p.x, batch * n, -1, 1);
  fill(p.gy, batch * m, -1, 1);
  return p;
}

LaplexProblem with_anchor_order(LaplexProblem p, AnchorOrder order) {
  for (auto [anchors, count] : {std::pair{&p.t, p.m}, std::pair{&p.s, p.n}})
    for (std::int64_t h = 0; h < p.heads; ++h) {
      const auto first = anchors->begin() + h * count, last = first + count;
      if (order == AnchorOrder::ascending) std::sort(first, last);
      if (order == AnchorOrder::descending) std::sort(first, last, std::greater<>());
      if (order == AnchorOrder::rotated) std::rotate(first, first + count / 2, last);
    }
  return p;
}

LaplexProblem float_rounded(LaplexProblem p) {
  for (auto* values : {&p.t, &p.s, &p.u, &p.v, &p.rho, &p.omega, &p.phi, &p.x, &p.gy})
    for (double& v : *values) v = static_cast<float>(v);
  return p;
}

LaplexProblem million_anchor_problem(std::int64_t batch, bool phased) {
  const std::int64_t n = 1000000;
  LaplexProblem p = random_laplex_problem(batch, n, n, 1, phased, true, 5, 500.0);
  for (auto* anchors : {&p.t, &p.s})
    for (double& a : *anchors) a += 500.0;
  p.rho = {0.5};
  p.omega = {0.7};
  p.phi = {0.3};
  return float_rounded(p);
}

std::vector<double> oracle_dense(const LaplexProblem& p) {
  std::vector<double> w(p.m * p.n, 0.0);
  for (std::int64_t h = 0; h < p.heads; ++h) {
    const double alpha = softplus(p.rho[h]);
    for (std::int64_t i = 0; i < p.m; ++i)
      for (std::int64_t j = 0; j < p.n; ++j) {
        const double d = p.t[h * p.m + i] - p.s[h * p.n + j];
        w[i * p.n + j] += gain(p.u, h * p.m + i) *
                          kernel(d, alpha, omega_of(p, h), phi_of(p, h)).value *
                          gain(p.v, h * p.n + j);
      }
  }
  return w;
}

std::vector<double> oracle_forward(const LaplexProblem& p) {
  const std::vector<double> w = oracle_dense(p);
  std::vector<double> y(p.batch * p.m, 0.0);
  for (std::int64_t b = 0; b < p.batch; ++b)
    for (std::int64_t i = 0; i < p.m; ++i)
      for (std::int64_t j = 0; j < p.n; ++j) y[b * p.m + i] += w[i * p.n + j] * p.x[b * p.n + j];
  return y;
}

double oracle_loss(const LaplexProblem& p) {
  const std::vector<double> y = oracle_forward(p);
  double loss = 0;
  for (std::size_t k = 0; k < y.size(); ++k) loss += p.gy[k] * y[k];
  return loss;
}

LaplexGradients oracle_gradients(const LaplexProblem& p) {
  const std::int64_t m = p.m, n = p.n, H = p.heads;
  // dL/dW = G = gy^T x, summed over the batch.
  std::vector<double> G(m * n, 0.0);
  for (std::int64_t b = 0; b < p.batch; ++b)
    for (std::int64_t i = 0; i < m; ++i)
      for (std::int64_t j = 0; j < n; ++j) G[i * n + j] += p.gy[b * m + i] * p.x[b * n + j];
  const std::vector<double> w = oracle_dense(p);
  LaplexGradients g;
  g.dx.assign(p.batch * n, 0.0);
  for (std::int64_t b = 0; b < p.batch; ++b)
    for (std::int64_t i = 0; i < m; ++i)
      for (std::int64_t j = 0; j < n; ++j) g.dx[b * n + j] += p.gy[b * m + i] * w[i * n + j];
  g.dt.assign(H * m, 0.0);
  g.ds.assign(H * n, 0.0);
  g.du.assign(H * m, 0.0);
  g.dv.assign(H * n, 0.0);
  g.drho.assign(H, 0.0);
  g.domega.assign(H, 0.0);
  g.dphi.assign(H, 0.0);
  for (std::int64_t h = 0; h < H; ++h) {
    const double alpha = softplus(p.rho[h]);
    double dalpha = 0;
    for (std::int64_t i = 0; i < m; ++i)
      for (std::int64_t j = 0; j < n; ++j) {
        const double ui = gain(p.u, h * m + i), vj = gain(p.v, h * n + j);
        const Kernel k =
            kernel(p.t[h * m + i] - p.s[h * n + j], alpha, omega_of(p, h), phi_of(p, h));
        const double gij = G[i * n + j];
        g.dt[h * m + i] += gij * ui * vj * k.d_d;
        g.ds[h * n + j] -= gij * ui * vj * k.d_d;
        g.du[h * m + i] += gij * k.value * vj;
        g.dv[h * n + j] += gij * ui * k.value;
        dalpha += gij * ui * vj * k.d_alpha;
        if (p.phased) {
          g.domega[h] += gij * ui * vj * k.d_omega;
          g.dphi[h] += gij * ui * vj * k.d_phi;
        }
      }
    g.drho[h] = dalpha / (1.0 + std::exp(-p.rho[h]));
  }
  if (p.u.empty()) g.du.clear();
  if (p.v.empty()) g.dv.clear();
  return g;
}

LaplexGradients oracle_finite_differences(const LaplexProblem& p, double eps) {
  LaplexProblem q = p;
  auto central = [&](std::vector<double>& values, std::vector<double>& out) {
    out.assign(values.size(), 0.0);
    for (std::size_t k = 0; k < values.size(); ++k) {
      const double saved = values[k];
      values[k] = saved + eps;
      const double plus = oracle_loss(q);
      values[k] = saved - eps;
      const double minus = oracle_loss(q);
      values[k] = saved;
      out[k] = (plus - minus) / (2 * eps);
    }
  };
  // f'(0) from the side of `direction` (+1 or -1), second order.
  auto one_sided = [&](double& value, double direction) {
    const double saved = value;
    const double f0 = oracle_loss(q);
    value = saved + direction * eps;
    const double f1 = oracle_loss(q);
    value = saved + 2 * direction * eps;
    const double f2 = oracle_loss(q);
    value = saved;
    return direction * (-3 * f0 + 4 * f1 - f2) / (2 * eps);
  };
  LaplexGradients g;
  central(q.x, g.dx);
  central(q.u, g.du);
  central(q.v, g.dv);
  central(q.rho, g.drho);
  if (p.phased) {
    central(q.omega, g.domega);
    central(q.phi, g.dphi);
  } else {
    g.domega.assign(p.heads, 0.0);
    g.dphi.assign(p.heads, 0.0);
  }
  central(q.t, g.dt);
  central(q.s, g.ds);
  for (std::int64_t h = 0; h < p.heads; ++h) {
    for (std::int64_t i = 0; i < p.m; ++i)
      for (std::int64_t j = 0; j < p.n; ++j) {
        if (p.t[h * p.m + i] != p.s[h * p.n + j]) continue;
        g.dt[h * p.m + i] = one_sided(q.t[h * p.m + i], +1.0);
        g.ds[h * p.n + j] = one_sided(q.s[h * p.n + j], -1.0);
      }
  }
  return g;
}

}  // namespace laplex::testing
