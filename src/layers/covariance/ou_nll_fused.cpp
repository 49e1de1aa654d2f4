#include "layers/covariance/ou_nll_fused.h"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <vector>

#include "core/autograd/node.h"

namespace laplex {

namespace {

constexpr std::int64_t kChunk = 2048;
// Below this many chunks a parallel region costs more than it saves (and on
// a busy machine waits for a second core).
constexpr std::int64_t kParallelChunks = 8;

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
// r = 0, q = 1 so that y_1^2 is the first innovation term. Transcendentals
// dominate the cost, so each element pays for three: exp(-|raw|) gives both
// softplus (with a log1p) and sigmoid, and one expm1 gives both
// r = 1 + expm1(-a) and 1 - r^2 = -expm1(-a) (2 + expm1(-a)) without
// cancellation.
template <class T>
struct Chunk {
  std::int64_t lo = 0, hi = 0;
  std::vector<std::int64_t> index;
  std::vector<T> mu, d, inv_d, sig, gap, r, inv_q;
  std::vector<double> det;  // d^2 q, forward only: log det K D^2 = sum log det
  std::vector<char> clamped;
  bool contiguous = false;  // index[s] = index[0] + s: x rows are read as slices

  void load(const Kernel<T>& k, std::int64_t from, std::int64_t to, bool backward) {
    lo = from;
    hi = to;
    const std::int64_t len = to - from;
    for (auto* v : {&mu, &d, &inv_d, &sig, &gap, &r, &inv_q}) v->resize(len);
    index.resize(len);
    det.resize(backward ? 0 : len);
    clamped.resize(len);
    for (std::int64_t s = 0; s < len; ++s) {
      const std::int64_t pos = from + s, i = k.perm[pos];
      index[s] = i;
      mu[s] = k.mu[i];
      const T raw = k.d_raw[i];
      const T e = std::exp(-std::fabs(raw));
      // softplus; log(1 + e) in double is exact enough for e in (0, 1] and
      // much cheaper than log1pf.
      const T dv =
          (raw > T(0) ? raw : T(0)) + static_cast<T>(std::log(1.0 + static_cast<double>(e)));
      d[s] = dv;
      inv_d[s] = T(1) / dv;
      if (backward) sig[s] = raw >= T(0) ? T(1) / (T(1) + e) : e / (T(1) + e);
      T q = T(1);
      if (pos == 0) {
        gap[s] = T(0);
        r[s] = T(0);
        clamped[s] = 1;  // no q to differentiate
      } else {
        const T g = k.t[i] - k.t[k.perm[pos - 1]];
        const T em = std::expm1(-k.alpha * g);
        const T q_raw = -em * (T(2) + em);
        gap[s] = g;
        r[s] = T(1) + em;
        // The engine's clamp: gradient 1 exactly on [eps, 1].
        clamped[s] = !(q_raw >= k.eps && q_raw <= T(1));
        q = q_raw < k.eps ? k.eps : (q_raw > T(1) ? T(1) : q_raw);
      }
      inv_q[s] = T(1) / q;
      if (!backward) det[s] = static_cast<double>(dv) * dv * q;
    }
    contiguous = len == 0 || index[len - 1] - index[0] == len - 1;
    for (std::int64_t s = 1; contiguous && s < len; ++s) contiguous = index[s] == index[s - 1] + 1;
  }
};

// y = (x - mu) / d of one row, in sorted order; a plain (vectorisable)
// slice where the chunk's anchors are in index order, as initialised.
template <class T>
void load_y(const Chunk<T>& c, const T* xb, T* y, std::int64_t len) {
  const T *mu = c.mu.data(), *inv_d = c.inv_d.data();
  if (c.contiguous && len > 0) {
    const T* xs = xb + c.index[0];
    for (std::int64_t s = 0; s < len; ++s) y[s] = (xs[s] - mu[s]) * inv_d[s];
  } else {
    const std::int64_t* index = c.index.data();
    for (std::int64_t s = 0; s < len; ++s) y[s] = (xb[index[s]] - mu[s]) * inv_d[s];
  }
}

template <class T>
void forward(const Kernel<T>& k, T* nll) {
  const std::int64_t chunks = (k.n + kChunk - 1) / kChunk;
  std::vector<double> quad(chunks * k.batch), logdet(chunks);
#pragma omp parallel if (chunks >= kParallelChunks)
  {
    Chunk<T> c;
    std::vector<T> y;
#pragma omp for schedule(static)
    for (std::int64_t ci = 0; ci < chunks; ++ci) {
      const std::int64_t k0 = ci * kChunk, k1 = std::min(k.n, k0 + kChunk);
      const std::int64_t lo = std::max<std::int64_t>(k0 - 1, 0);
      c.load(k, lo, k1, false);
      const std::int64_t len = k1 - lo, first = k0 - lo;
      double ld = 0;
      // One log per four factors (logs are a large part of the cost), unless
      // their product leaves the safe range of double.
      std::int64_t j = first;
      for (; j + 4 <= len; j += 4) {
        const double* f = c.det.data() + j;
        const double product = f[0] * f[1] * f[2] * f[3];
        ld += product > 1e-300 && product < 1e300
                  ? std::log(product)
                  : std::log(f[0]) + std::log(f[1]) + std::log(f[2]) + std::log(f[3]);
      }
      for (; j < len; ++j) ld += std::log(c.det[j]);
      logdet[ci] = ld;
      // y[0] is a zero before position 0 (r = 0 there), so the loop has no branch.
      y.resize(len + 1);
      y[0] = T(0);
      const T *r = c.r.data(), *inv_q = c.inv_q.data();
      for (std::int64_t b = 0; b < k.batch; ++b) {
        const T* xb = k.x + b * k.n;
        T* yb = y.data() + 1;
        load_y(c, xb, yb, len);
        double acc = 0;
        for (std::int64_t s = first; s < len; ++s) {
          const T innovation = yb[s] - r[s] * yb[s - 1];
          acc += static_cast<double>(innovation * innovation * inv_q[s]);
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
#pragma omp parallel reduction(+ : dalpha) if (chunks >= kParallelChunks)
  {
    Chunk<T> c;
    std::vector<T> y, e;
    // Sums over the B rows in T (B is small; the composed ops sum in T too).
    std::vector<T> dy_sum, dd, dr, dq;
#pragma omp for schedule(static)
    for (std::int64_t ci = 0; ci < chunks; ++ci) {
      // Positions [lo, hi) = [k0 - 1, k1 + 1) clipped: a chunk needs y_{k0-1}
      // and e_{k1}, and recomputes dgap_{k1} rather than waiting for the next chunk.
      const std::int64_t k0 = ci * kChunk, k1 = std::min(n, k0 + kChunk);
      const std::int64_t lo = std::max<std::int64_t>(k0 - 1, 0), hi = std::min(n, k1 + 1);
      c.load(k, lo, hi, true);
      const std::int64_t len = hi - lo, first = k0 - lo, last = k1 - lo;  // own: [first, last)
      // Padding removes the boundary branches: y gets a zero before position
      // 0 (where r = 0), e and r a zero after position n - 1.
      y.assign(len + 1, T(0));
      e.assign(len + 1, T(0));
      c.r.push_back(T(0));
      dy_sum.assign(len, T(0));  // sum_b g_b dNLL/dy_j / d_j
      dd.assign(len, T(0));
      dr.assign(len, T(0));
      dq.assign(len, T(0));
      const std::int64_t* index = c.index.data();
      const T *inv_d = c.inv_d.data(), *r = c.r.data(), *inv_q = c.inv_q.data();
      T* yb = y.data() + 1;
      T* eb = e.data();
      for (std::int64_t b = 0; b < k.batch; ++b) {
        const T* xb = k.x + b * n;
        const T gb = static_cast<T>(g[b]);
        load_y(c, xb, yb, len);
        for (std::int64_t s = first; s < len; ++s) {
          const T prev = yb[s - 1];
          const T es = (yb[s] - r[s] * prev) * inv_q[s];
          eb[s] = es;
          dr[s] -= gb * es * prev;
          dq[s] -= T(0.5) * gb * es * es;
        }
        T* dxb = dx ? dx + b * n : nullptr;
        for (std::int64_t s = first; s < last; ++s) {
          const T dxv = gb * (eb[s] - r[s + 1] * eb[s + 1]) * inv_d[s];
          if (dxb) dxb[index[s]] = dxv;
          dy_sum[s] += dxv;
          dd[s] -= dxv * yb[s];
        }
      }
      // Per position: the gap's gradient (also at k1, for dt of k1 - 1).
      auto dgap = [&](std::int64_t s) {
        if (lo + s == 0) return 0.0;
        const double dq_s = dq[s] + 0.5 * g_total * inv_q[s];
        const double rs = r[s];
        return dr[s] * (-alpha * rs) + (c.clamped[s] ? 0.0 : dq_s * 2 * alpha * rs * rs);
      };
      for (std::int64_t s = first; s < last; ++s) {
        const std::int64_t i = index[s];
        const double here = dgap(s);
        if (lo + s > 0) {
          // dgap/dalpha-weighted terms: same as dgap with gap in place of alpha.
          const double dq_s = dq[s] + 0.5 * g_total * inv_q[s];
          const double rs = r[s], gap = c.gap[s];
          dalpha += dr[s] * (-gap * rs) + (c.clamped[s] ? 0.0 : dq_s * 2 * gap * rs * rs);
        }
        if (dmu) dmu[i] = static_cast<T>(-dy_sum[s]);
        if (d_draw) d_draw[i] = static_cast<T>((dd[s] + g_total * inv_d[s]) * c.sig[s]);
        if (dt) dt[i] = static_cast<T>(here - (s + 1 < len ? dgap(s + 1) : 0.0));
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
