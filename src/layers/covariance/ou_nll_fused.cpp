#include "layers/covariance/ou_nll_fused.h"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <vector>

#include "core/autograd/node.h"

namespace laplex {

namespace {

constexpr std::int64_t kChunk = 2048;

template <class T>
T softplus_of(T x) {
  return (x > T(0) ? x : T(0)) + std::log1p(std::exp(-std::fabs(x)));
}

template <class T>
T sigmoid_of(T x) {
  return x >= T(0) ? T(1) / (T(1) + std::exp(-x)) : std::exp(x) / (T(1) + std::exp(x));
}

template <class T>
struct Kernel {
  const T* x;
  const T* mu;
  const T* t;
  const T* d_raw;
  T alpha;
  T eps;
  const std::int64_t* perm;
  std::int64_t batch, n;
};

// Sorted-order quantities of positions [lo, hi), recomputed per chunk (cheaper
// than storing n-vectors between forward and backward). Position 0 gets
// r = 0, q = 1 so that y_1^2 is the first innovation term.
template <class T>
struct Chunk {
  std::int64_t lo = 0, hi = 0;
  std::vector<std::int64_t> index;
  std::vector<T> mu, d, gap, r, q;
  std::vector<char> clamped;

  void load(const Kernel<T>& k, std::int64_t from, std::int64_t to) {
    lo = from;
    hi = to;
    const std::int64_t len = to - from;
    index.resize(len);
    mu.resize(len);
    d.resize(len);
    gap.resize(len);
    r.resize(len);
    q.resize(len);
    clamped.resize(len);
    for (std::int64_t s = 0; s < len; ++s) {
      const std::int64_t pos = from + s, i = k.perm[pos];
      index[s] = i;
      mu[s] = k.mu[i];
      d[s] = softplus_of(k.d_raw[i]);
      if (pos == 0) {
        gap[s] = T(0);
        r[s] = T(0);
        q[s] = T(1);
        clamped[s] = 1;  // no q to differentiate
        continue;
      }
      const T g = k.t[i] - k.t[k.perm[pos - 1]];
      const T a = k.alpha * g;
      const T q_raw = -std::expm1(T(-2) * a);
      gap[s] = g;
      r[s] = std::exp(-a);
      // The engine's clamp: gradient 1 exactly on [eps, 1].
      clamped[s] = !(q_raw >= k.eps && q_raw <= T(1));
      q[s] = q_raw < k.eps ? k.eps : (q_raw > T(1) ? T(1) : q_raw);
    }
  }
};

template <class T>
void forward(const Kernel<T>& k, T* nll) {
  const std::int64_t chunks = (k.n + kChunk - 1) / kChunk;
  std::vector<double> quad(chunks * k.batch), logdet(chunks);
#pragma omp parallel
  {
    Chunk<T> c;
    std::vector<T> y;
#pragma omp for schedule(static)
    for (std::int64_t ci = 0; ci < chunks; ++ci) {
      const std::int64_t k0 = ci * kChunk, k1 = std::min(k.n, k0 + kChunk);
      const std::int64_t lo = std::max<std::int64_t>(k0 - 1, 0);
      c.load(k, lo, k1);
      const std::int64_t len = k1 - lo, first = k0 - lo;
      double ld = 0;
      for (std::int64_t s = first; s < len; ++s) ld += 2 * std::log(c.d[s]) + std::log(c.q[s]);
      logdet[ci] = ld;
      y.resize(len);
      for (std::int64_t b = 0; b < k.batch; ++b) {
        const T* xb = k.x + b * k.n;
        for (std::int64_t s = 0; s < len; ++s) y[s] = (xb[c.index[s]] - c.mu[s]) / c.d[s];
        double acc = 0;
        for (std::int64_t s = first; s < len; ++s) {
          const T innovation = y[s] - c.r[s] * (s > 0 ? y[s - 1] : T(0));
          acc += static_cast<double>(innovation) * innovation / c.q[s];
        }
        quad[ci * k.batch + b] = acc;
      }
    }
  }
  double ld = 0;
  for (double v : logdet) ld += v;
  const double constant = static_cast<double>(k.n) * std::log(2 * std::numbers::pi) + ld;
  for (std::int64_t b = 0; b < k.batch; ++b) {
    double acc = 0;
    for (std::int64_t ci = 0; ci < chunks; ++ci) acc += quad[ci * k.batch + b];
    nll[b] = static_cast<T>(0.5 * (constant + acc));
  }
}

struct Outputs {
  void* dx;  // each null when not wanted
  void* dmu;
  void* dt;
  void* d_draw;
};

// Per row b (weight g_b), with e_k = (y_k - r_k y_{k-1}) / q_k:
//   dNLL/dy_j = e_j - r_{j+1} e_{j+1},  dNLL/dr_k = -e_k y_{k-1},
//   dNLL/dq_k = (1/q_k - e_k^2) / 2,    dNLL/dd_j (log det) = 1/d_j,
// then y = (x - mu)/d, r = exp(-alpha g), q = 1 - exp(-2 alpha g) (unclamped),
// g_k = p_k - p_{k-1}. Returns dNLL/dalpha (weighted by g).
template <class T>
double backward(const Kernel<T>& k, const T* g, const Outputs& out) {
  const std::int64_t n = k.n, chunks = (n + kChunk - 1) / kChunk;
  double g_total = 0;
  for (std::int64_t b = 0; b < k.batch; ++b) g_total += g[b];
  T* dx = static_cast<T*>(out.dx);
  T* dmu = static_cast<T*>(out.dmu);
  T* dt = static_cast<T*>(out.dt);
  T* d_draw = static_cast<T*>(out.d_draw);
  const double alpha = k.alpha;
  double dalpha = 0;
#pragma omp parallel reduction(+ : dalpha)
  {
    Chunk<T> c;
    std::vector<T> y, e;
    std::vector<double> dy_sum, dd, dr, dq;
#pragma omp for schedule(static)
    for (std::int64_t ci = 0; ci < chunks; ++ci) {
      // Positions [lo, hi) = [k0 - 1, k1 + 1) clipped: a chunk needs y_{k0-1}
      // and e_{k1}, and recomputes dgap_{k1} rather than waiting for the next chunk.
      const std::int64_t k0 = ci * kChunk, k1 = std::min(n, k0 + kChunk);
      const std::int64_t lo = std::max<std::int64_t>(k0 - 1, 0), hi = std::min(n, k1 + 1);
      c.load(k, lo, hi);
      const std::int64_t len = hi - lo, first = k0 - lo, last = k1 - lo;  // own: [first, last)
      y.resize(len);
      e.resize(len);
      dy_sum.assign(len, 0.0);  // sum_b g_b dNLL/dy_j / d_j
      dd.assign(len, 0.0);
      dr.assign(len, 0.0);
      dq.assign(len, 0.0);
      for (std::int64_t b = 0; b < k.batch; ++b) {
        const T* xb = k.x + b * n;
        const double gb = g[b];
        for (std::int64_t s = 0; s < len; ++s) y[s] = (xb[c.index[s]] - c.mu[s]) / c.d[s];
        for (std::int64_t s = first; s < len; ++s) {
          const T prev = s > 0 ? y[s - 1] : T(0);
          e[s] = (y[s] - c.r[s] * prev) / c.q[s];
          dr[s] -= gb * e[s] * prev;
          dq[s] -= 0.5 * gb * e[s] * e[s];
        }
        for (std::int64_t s = first; s < last; ++s) {
          const T next = s + 1 < len ? c.r[s + 1] * e[s + 1] : T(0);
          const double dy = gb * (e[s] - next);
          const double dxv = dy / c.d[s];
          if (dx) dx[b * n + c.index[s]] = static_cast<T>(dxv);
          dy_sum[s] += dxv;
          dd[s] -= dxv * y[s];
        }
      }
      // Per position: the gap's gradient (also at k1, for dt of k1 - 1).
      auto dgap = [&](std::int64_t s) {
        if (lo + s == 0) return 0.0;
        const double dq_s = dq[s] + 0.5 * g_total / c.q[s];
        const double r = c.r[s];
        return dr[s] * (-alpha * r) + (c.clamped[s] ? 0.0 : dq_s * 2 * alpha * r * r);
      };
      for (std::int64_t s = first; s < last; ++s) {
        const std::int64_t i = c.index[s];
        if (lo + s > 0) {
          const double dq_s = dq[s] + 0.5 * g_total / c.q[s];
          const double r = c.r[s], gap = c.gap[s];
          dalpha += dr[s] * (-gap * r) + (c.clamped[s] ? 0.0 : dq_s * 2 * gap * r * r);
        }
        if (dmu) dmu[i] = static_cast<T>(-dy_sum[s]);
        if (d_draw) d_draw[i] = static_cast<T>((dd[s] + g_total / c.d[s]) * sigmoid_of(k.d_raw[i]));
        if (dt) dt[i] = static_cast<T>(dgap(s) - (s + 1 < len ? dgap(s + 1) : 0.0));
      }
    }
  }
  return dalpha;
}

}  // namespace

Tensor ou_nll_fused(const Tensor& x, const OuParams& p, double eps, AnchorPermutation perm) {
  const std::int64_t n = p.t.numel();
  check(x.dim() == 2 && x.size(1) == n, "ou_nll_fused: x must be (B, n), got " + x.str());
  for (const Tensor* v : {&x, &p.mu, &p.t, &p.d_raw, &p.rho}) {
    check(v->device().is_cpu(), "ou_nll_fused: CPU tensors only, got " + v->str());
    check(v->dtype() == x.dtype(), "ou_nll_fused: one dtype, got " + v->str());
  }
  check(x.dtype() == DType::f32 || x.dtype() == DType::f64,
        "ou_nll_fused: float32 or float64, got " + x.str());
  check(p.mu.numel() == n && p.d_raw.numel() == n && p.rho.numel() == 1,
        "ou_nll_fused: mu, t, d_raw (n) and rho (1)");
  const Tensor xc = x.detach().contiguous(), mu = p.mu.detach().contiguous(),
               t = p.t.detach().contiguous(), d_raw = p.d_raw.detach().contiguous();
  const double rho = p.rho.item();
  const std::int64_t batch = x.size(0);
  Tensor nll = Tensor::empty({batch}, x.dtype());
  visit_floating(x.dtype(), "ou_nll_fused", [&](auto tag) {
    using T = decltype(tag);
    if (!perm) perm = sort_anchors(t.data<T>(), n, nullptr);
    check(static_cast<std::int64_t>(perm->size()) == n, "ou_nll_fused: permutation length");
    const T alpha = softplus_of(static_cast<T>(rho));
    const Kernel<T> k{xc.data<T>(),    mu.data<T>(), t.data<T>(),
                      d_raw.data<T>(), alpha,        static_cast<T>(eps),
                      perm->data(),    batch,        n};
    if (batch > 0 && n > 0) forward(k, nll.data<T>());
  });
  const bool want[4] = {x.requires_grad(), p.mu.requires_grad(), p.t.requires_grad(),
                        p.d_raw.requires_grad()};
  autograd::record(nll, {x, p.mu, p.t, p.d_raw, p.rho}, "ou_nll_fused",
                   [=](const std::vector<Tensor>& grads) -> std::vector<Tensor> {
                     std::vector<Tensor> result(5);
                     if (!grads[0].defined()) return result;
                     const Tensor g = grads[0].contiguous();
                     const Shape shapes[4] = {xc.shape(), mu.shape(), t.shape(), d_raw.shape()};
                     void* ptr[4] = {};
                     for (int i = 0; i < 4; ++i)
                       if (want[i]) {
                         result[i] = Tensor::empty(shapes[i], xc.dtype());
                         ptr[i] = result[i].raw_data();
                       }
                     visit_floating(xc.dtype(), "ou_nll_fused backward", [&](auto tag) {
                       using T = decltype(tag);
                       const T alpha = softplus_of(static_cast<T>(rho));
                       const Kernel<T> k{xc.data<T>(),    mu.data<T>(), t.data<T>(),
                                         d_raw.data<T>(), alpha,        static_cast<T>(eps),
                                         perm->data(),    xc.size(0),   n};
                       double dalpha = 0;
                       if (k.batch > 0 && n > 0)
                         dalpha = backward(k, g.data<T>(), {ptr[0], ptr[1], ptr[2], ptr[3]});
                       else
                         for (int i = 0; i < 4; ++i)
                           if (result[i].defined()) result[i].zero_();
                       result[4] = Tensor::full({1}, dalpha * sigmoid_of(rho), xc.dtype());
                     });
                     return result;
                   });
  return nll;
}

}  // namespace laplex
