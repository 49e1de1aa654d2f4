#include <limits>
#include <vector>

#include "core/ops/cpu/strided_loop.h"
#include "core/ops/reduce_kernels.h"

namespace laplex::cpu {

namespace {

template <class T>
void sum_rows(const T* x, T* out, const ReduceGeometry& g) {
  // inner == 1: one dot-like reduction per row, accumulated in double for
  // float inputs would change results vs PyTorch; accumulate in T with
  // several partial sums (vectorised) instead.
  const std::int64_t rows = g.outer, len = g.reduced;
#pragma omp parallel for if (rows * len >= kParallelGrain) schedule(static)
  for (std::int64_t o = 0; o < rows; ++o) {
    const T* row = x + o * len;
    T acc = T(0);
#pragma omp simd reduction(+ : acc)
    for (std::int64_t r = 0; r < len; ++r) acc += row[r];
    out[o] = acc;
  }
}

template <class T>
void sum_columns(const T* x, T* out, const ReduceGeometry& g) {
  // inner > 1: accumulate whole rows of length inner, contiguous and vectorised.
  const std::int64_t total = g.outer * g.reduced * g.inner;
  const std::int64_t inner = g.inner;
#pragma omp parallel for collapse(2) if (total >= kParallelGrain) schedule(static)
  for (std::int64_t o = 0; o < g.outer; ++o) {
    for (std::int64_t block = 0; block < inner; block += 1024) {
      const std::int64_t end = std::min(inner, block + 1024);
      T* dst = out + o * inner;
      for (std::int64_t i = block; i < end; ++i) dst[i] = T(0);
      for (std::int64_t r = 0; r < g.reduced; ++r) {
        const T* src = x + (o * g.reduced + r) * inner;
#pragma omp simd
        for (std::int64_t i = block; i < end; ++i) dst[i] += src[i];
      }
    }
  }
}

template <class T>
void max_reduce(const T* x, T* out, std::int64_t* index, const ReduceGeometry& g) {
  const std::int64_t total = g.outer * g.reduced * g.inner;
#pragma omp parallel for collapse(2) if (total >= kParallelGrain) schedule(static)
  for (std::int64_t o = 0; o < g.outer; ++o) {
    for (std::int64_t i = 0; i < g.inner; ++i) {
      const T* base = x + o * g.reduced * g.inner + i;
      T best = base[0];
      std::int64_t best_r = 0;
      for (std::int64_t r = 1; r < g.reduced; ++r) {
        const T v = base[r * g.inner];
        // NaN propagates, like torch.max.
        if (v > best || (v != v && best == best)) {
          best = v;
          best_r = r;
        }
      }
      out[o * g.inner + i] = best;
      if (index) index[o * g.inner + i] = best_r;
    }
  }
}

}  // namespace

void reduce(ReduceOp op, const Tensor& x, const ReduceGeometry& g, const Tensor& out,
            const Tensor& index) {
  visit_floating(x.dtype(), "reduce", [&](auto tag) {
    using T = decltype(tag);
    if (op == ReduceOp::sum) {
      if (g.reduced == 0) {
        std::fill(out.data<T>(), out.data<T>() + out.numel(), T(0));
      } else if (g.inner == 1) {
        sum_rows(x.data<T>(), out.data<T>(), g);
      } else {
        sum_columns(x.data<T>(), out.data<T>(), g);
      }
    } else {
      if (g.reduced == 0) throw Error("max: reduction over an empty dim");
      max_reduce(x.data<T>(), out.data<T>(),
                 index.defined() ? index.data<std::int64_t>() : nullptr, g);
    }
  });
}

void cumsum(const Tensor& x, const ReduceGeometry& g, const Tensor& out, bool reverse) {
  visit_floating(x.dtype(), "cumsum", [&](auto tag) {
    using T = decltype(tag);
    const T* in = x.data<T>();
    T* o = out.data<T>();
    const std::int64_t total = g.outer * g.reduced * g.inner;
#pragma omp parallel for if (total >= kParallelGrain && g.outer > 1) schedule(static)
    for (std::int64_t a = 0; a < g.outer; ++a) {
      std::vector<T> acc(g.inner, T(0));
      for (std::int64_t k = 0; k < g.reduced; ++k) {
        const std::int64_t r = reverse ? g.reduced - 1 - k : k;
        const std::int64_t base = (a * g.reduced + r) * g.inner;
        for (std::int64_t i = 0; i < g.inner; ++i) {
          acc[i] += in[base + i];
          o[base + i] = acc[i];
        }
      }
    }
  });
}

}  // namespace laplex::cpu
