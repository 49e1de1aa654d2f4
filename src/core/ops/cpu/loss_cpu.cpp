#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "core/ops/cpu/strided_loop.h"
#include "core/ops/loss_kernels.h"

namespace laplex::cpu {

void log_softmax_rows(const Tensor& x, const Tensor& out) {
  const std::int64_t rows = x.size(0), c = x.size(1);
  visit_floating(x.dtype(), "log_softmax", [&](auto tag) {
    using T = decltype(tag);
    const T* in = x.data<T>();
    T* o = out.data<T>();
#pragma omp parallel for if (rows * c >= kParallelGrain) schedule(static)
    for (std::int64_t r = 0; r < rows; ++r) {
      const T* row = in + r * c;
      T top = -std::numeric_limits<T>::infinity();
      for (std::int64_t j = 0; j < c; ++j) top = std::max(top, row[j]);
      T total = T(0);
      for (std::int64_t j = 0; j < c; ++j) total += std::exp(row[j] - top);
      const T shift = top + std::log(total);
      for (std::int64_t j = 0; j < c; ++j) o[r * c + j] = row[j] - shift;
    }
  });
}

void log_softmax_backward_rows(const Tensor& g, const Tensor& logp, const Tensor& out) {
  const std::int64_t rows = g.size(0), c = g.size(1);
  visit_floating(g.dtype(), "log_softmax", [&](auto tag) {
    using T = decltype(tag);
    const T* pg = g.data<T>();
    const T* pl = logp.data<T>();
    T* o = out.data<T>();
#pragma omp parallel for if (rows * c >= kParallelGrain) schedule(static)
    for (std::int64_t r = 0; r < rows; ++r) {
      T total = T(0);
      for (std::int64_t j = 0; j < c; ++j) total += pg[r * c + j];
      for (std::int64_t j = 0; j < c; ++j)
        o[r * c + j] = pg[r * c + j] - std::exp(pl[r * c + j]) * total;
    }
  });
}

void cross_entropy_rows(const Tensor& logits, const Tensor& targets, double smoothing,
                        const Tensor& loss_rows, const Tensor& grad) {
  const std::int64_t rows = logits.size(0), c = logits.size(1);
  const std::int64_t* t = targets.data<std::int64_t>();
  for (std::int64_t r = 0; r < rows; ++r)
    if (t[r] < 0 || t[r] >= c)
      throw Error("cross_entropy: target " + std::to_string(t[r]) + " at row " +
                  std::to_string(r) + " is not a class index in [0, " + std::to_string(c) + ")");
  visit_floating(logits.dtype(), "cross_entropy", [&](auto tag) {
    using T = decltype(tag);
    const T* x = logits.data<T>();
    T* loss = loss_rows.data<T>();
    T* gr = grad.data<T>();
    const T eps = T(smoothing), inv_rows = T(1) / T(rows);
    const T off = eps / T(c), on = T(1) - eps + eps / T(c);
#pragma omp parallel for if (rows * c >= kParallelGrain) schedule(static)
    for (std::int64_t r = 0; r < rows; ++r) {
      const T* row = x + r * c;
      T top = -std::numeric_limits<T>::infinity();
      for (std::int64_t j = 0; j < c; ++j) top = std::max(top, row[j]);
      T total = T(0);
      for (std::int64_t j = 0; j < c; ++j) total += std::exp(row[j] - top);
      const T lse = top + std::log(total);
      T sum_logp = T(0);
      for (std::int64_t j = 0; j < c; ++j) {
        const T logp = row[j] - lse;
        sum_logp += logp;
        const T target = j == t[r] ? on : off;
        gr[r * c + j] = (std::exp(logp) - target) * inv_rows;
      }
      // -((1 - eps) logp[t] + eps/C sum_j logp[j]), as torch computes it.
      loss[r] = -((T(1) - eps) * (row[t[r]] - lse) + eps / T(c) * sum_logp);
    }
  });
}

}  // namespace laplex::cpu
