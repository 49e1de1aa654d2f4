#include "layers/covariance/cholesky_op.h"

#include <cblas.h>

#include <cmath>
#include <string>
#include <vector>

#include "core/autograd/node.h"

namespace laplex {

namespace {

// Row-major lower triangular solves on host buffers, in place on b (k, m):
// L X = B, or L^T X = B when transposed.
void trsm(const float* l, float* b, int k, int m, bool transposed) {
  cblas_strsm(CblasRowMajor, CblasLeft, CblasLower, transposed ? CblasTrans : CblasNoTrans,
              CblasNonUnit, k, m, 1.0f, l, k, b, m);
}
void trsm(const double* l, double* b, int k, int m, bool transposed) {
  cblas_dtrsm(CblasRowMajor, CblasLeft, CblasLower, transposed ? CblasTrans : CblasNoTrans,
              CblasNonUnit, k, m, 1.0, l, k, b, m);
}

// The host copy of a tensor (contiguous, detached), and the way back.
Tensor host(const Tensor& x) { return x.detach().to(Device::cpu()).contiguous(); }

void check_matrix(const Tensor& a, const char* op) {
  check(a.dim() == 2 && a.size(0) == a.size(1),
        std::string(op) + ": needs a square matrix, got " + a.str());
  check(a.dtype() == DType::f32 || a.dtype() == DType::f64,
        std::string(op) + ": float32 or float64, got " + a.str());
}

template <class T>
void cholesky_lower(const T* a, T* l, std::int64_t k) {
  for (std::int64_t i = 0; i < k * k; ++i) l[i] = T(0);
  for (std::int64_t j = 0; j < k; ++j) {
    double diag = a[j * k + j];
    for (std::int64_t p = 0; p < j; ++p) diag -= double(l[j * k + p]) * l[j * k + p];
    if (!(diag > 0)) throw Error("cholesky: matrix is not positive definite");
    const double root = std::sqrt(diag);
    l[j * k + j] = static_cast<T>(root);
    for (std::int64_t i = j + 1; i < k; ++i) {
      // Lower triangle of the symmetric part.
      double v = 0.5 * (double(a[i * k + j]) + a[j * k + i]);
      for (std::int64_t p = 0; p < j; ++p) v -= double(l[i * k + p]) * l[j * k + p];
      l[i * k + j] = static_cast<T>(v / root);
    }
  }
}

// G = sym(L^{-T} Phi(L^T dL) L^{-1}).
template <class T>
void cholesky_backward(const T* l, const T* dl, T* g, std::int64_t k) {
  std::vector<T> p(k * k, T(0));
  for (std::int64_t i = 0; i < k; ++i)
    for (std::int64_t j = 0; j <= i; ++j) {
      double v = 0;  // (L^T dL)_ij = sum_r L_ri dL_rj
      for (std::int64_t r = i; r < k; ++r) v += double(l[r * k + i]) * dl[r * k + j];
      p[i * k + j] = static_cast<T>(i == j ? 0.5 * v : v);
    }
  // S = L^{-T} P L^{-1}: solve L^T Y = P, then S = Y L^{-1}, i.e. L^T S^T = Y^T.
  trsm(l, p.data(), static_cast<int>(k), static_cast<int>(k), true);
  std::vector<T> yt(k * k);
  for (std::int64_t i = 0; i < k; ++i)
    for (std::int64_t j = 0; j < k; ++j) yt[j * k + i] = p[i * k + j];
  trsm(l, yt.data(), static_cast<int>(k), static_cast<int>(k), true);  // yt = S^T
  for (std::int64_t i = 0; i < k; ++i)
    for (std::int64_t j = 0; j < k; ++j)
      g[i * k + j] = static_cast<T>(0.5 * (double(yt[i * k + j]) + yt[j * k + i]));
}

}  // namespace

Tensor cholesky(const Tensor& a) {
  check_matrix(a, "cholesky");
  const std::int64_t k = a.size(0);
  const Tensor ah = host(a);
  Tensor l = Tensor::empty({k, k}, a.dtype());
  visit_floating(a.dtype(), "cholesky", [&](auto tag) {
    using T = decltype(tag);
    cholesky_lower(ah.data<T>(), l.data<T>(), k);
  });
  Tensor out = l.to(a.device());
  // Saved detached: on the CPU `out` is `l` itself, and a node holding its
  // own output would be a reference cycle.
  autograd::record(out, {a}, "cholesky",
                   [l = l.detach(), k, device = a.device()](const std::vector<Tensor>& g) {
                     if (!g[0].defined()) return std::vector<Tensor>(1);
                     const Tensor dl = host(g[0]);
                     Tensor da = Tensor::empty({k, k}, l.dtype());
                     visit_floating(l.dtype(), "cholesky backward", [&](auto tag) {
                       using T = decltype(tag);
                       cholesky_backward(l.data<T>(), dl.data<T>(), da.data<T>(), k);
                     });
                     return std::vector<Tensor>{da.to(device)};
                   });
  return out;
}

Tensor triangular_solve(const Tensor& l, const Tensor& b) {
  check_matrix(l, "triangular_solve");
  check(
      b.dim() == 2 && b.size(0) == l.size(0) && b.dtype() == l.dtype() && b.device() == l.device(),
      "triangular_solve: B must be (k, m) like L " + l.str() + ", got " + b.str());
  const std::int64_t k = l.size(0), m = b.size(1);
  const Tensor lh = host(l);
  Tensor x = host(b).clone();
  visit_floating(l.dtype(), "triangular_solve", [&](auto tag) {
    using T = decltype(tag);
    if (k > 0 && m > 0)
      trsm(lh.data<T>(), x.data<T>(), static_cast<int>(k), static_cast<int>(m), false);
  });
  Tensor out = x.to(l.device());
  autograd::record(out, {l, b}, "triangular_solve",
                   [lh, x = x.detach(), k, m, device = l.device()](const std::vector<Tensor>& g) {
                     std::vector<Tensor> result(2);
                     if (!g[0].defined()) return result;
                     Tensor db = host(g[0]).clone();
                     Tensor dl = Tensor::zeros({k, k}, lh.dtype());
                     visit_floating(lh.dtype(), "triangular_solve backward", [&](auto tag) {
                       using T = decltype(tag);
                       if (k == 0 || m == 0) return;
                       trsm(lh.data<T>(), db.data<T>(), static_cast<int>(k), static_cast<int>(m),
                            true);
                       // dL = -tril(dB X^T): a GEMM, then the strictly upper part dropped.
                       T* d = dl.data<T>();
                       if constexpr (sizeof(T) == 4)
                         cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, k, k, m, -1.0f,
                                     db.data<T>(), m, x.data<T>(), m, 0.0f, d, k);
                       else
                         cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, k, k, m, -1.0,
                                     db.data<T>(), m, x.data<T>(), m, 0.0, d, k);
                       for (std::int64_t i = 0; i < k; ++i)
                         for (std::int64_t j = i + 1; j < k; ++j) d[i * k + j] = T(0);
                     });
                     result[0] = dl.to(device);
                     result[1] = db.to(device);
                     return result;
                   });
  return out;
}

}  // namespace laplex
