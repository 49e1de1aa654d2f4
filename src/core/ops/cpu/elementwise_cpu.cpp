#include "core/ops/cpu/strided_loop.h"
#include "core/ops/elementwise_kernels.h"

namespace laplex::cpu {

using namespace elementwise;

void unary(Unary op, const Tensor& x, const Tensor& out, double p0, double p1) {
  const Strides xs = broadcast_strides(x.shape(), x.strides(), out.shape());
  visit_floating(x.dtype(), "elementwise", [&](auto tag) {
    using T = decltype(tag);
    const T* in = x.data<T>();
    T* o = out.data<T>();
    const UnaryArgs<T> args{static_cast<T>(p0), static_cast<T>(p1)};
    visit_unary(op, [&](auto f) {
      if (x.is_contiguous() && x.shape() == out.shape()) {
        const std::int64_t n = out.numel();
#pragma omp parallel for simd if (n >= kParallelGrain) schedule(static)
        for (std::int64_t i = 0; i < n; ++i) o[i] = f(in[i], args);
        return;
      }
      for_each_row<2>(out.shape(), {&out.strides(), &xs},
                      [&](auto off, std::int64_t count, auto step) {
                        for (std::int64_t k = 0; k < count; ++k)
                          o[off[0] + k * step[0]] = f(in[off[1] + k * step[1]], args);
                      });
    });
  });
}

void binary(Binary op, const Tensor& a, const Tensor& b, const Tensor& out) {
  const Strides as = broadcast_strides(a.shape(), a.strides(), out.shape());
  const Strides bs = broadcast_strides(b.shape(), b.strides(), out.shape());
  visit_floating(a.dtype(), "elementwise", [&](auto tag) {
    using T = decltype(tag);
    const T* pa = a.data<T>();
    const T* pb = b.data<T>();
    T* o = out.data<T>();
    visit_binary(op, [&](auto f) {
      const std::int64_t n = out.numel();
      if (a.is_contiguous() && b.is_contiguous() && a.shape() == out.shape() &&
          b.shape() == out.shape()) {
#pragma omp parallel for simd if (n >= kParallelGrain) schedule(static)
        for (std::int64_t i = 0; i < n; ++i) o[i] = f(pa[i], pb[i]);
        return;
      }
      if (b.numel() == 1 && a.is_contiguous() && a.shape() == out.shape()) {
        const T y = pb[0];
#pragma omp parallel for simd if (n >= kParallelGrain) schedule(static)
        for (std::int64_t i = 0; i < n; ++i) o[i] = f(pa[i], y);
        return;
      }
      for_each_row<3>(out.shape(), {&out.strides(), &as, &bs},
                      [&](auto off, std::int64_t count, auto step) {
                        T* po = o + off[0];
                        const T* qa = pa + off[1];
                        const T* qb = pb + off[2];
                        if (step[0] == 1 && step[1] == 1 && step[2] == 1) {
#pragma omp simd
                          for (std::int64_t k = 0; k < count; ++k) po[k] = f(qa[k], qb[k]);
                        } else if (step[0] == 1 && step[1] == 1 && step[2] == 0) {
                          const T y = qb[0];
#pragma omp simd
                          for (std::int64_t k = 0; k < count; ++k) po[k] = f(qa[k], y);
                        } else {
                          for (std::int64_t k = 0; k < count; ++k)
                            po[k * step[0]] = f(qa[k * step[1]], qb[k * step[2]]);
                        }
                      });
    });
  });
}

void where(const Tensor& cond, const Tensor& a, const Tensor& b, const Tensor& out) {
  const Strides cs = broadcast_strides(cond.shape(), cond.strides(), out.shape());
  const Strides as = broadcast_strides(a.shape(), a.strides(), out.shape());
  const Strides bs = broadcast_strides(b.shape(), b.strides(), out.shape());
  visit_dtype(cond.dtype(), [&](auto ctag) {
    using C = decltype(ctag);
    visit_floating(a.dtype(), "where", [&](auto tag) {
      using T = decltype(tag);
      const C* pc = cond.data<C>();
      const T* pa = a.data<T>();
      const T* pb = b.data<T>();
      T* o = out.data<T>();
      for_each_row<4>(out.shape(), {&out.strides(), &cs, &as, &bs},
                      [&](auto off, std::int64_t count, auto step) {
                        for (std::int64_t k = 0; k < count; ++k)
                          o[off[0] + k * step[0]] = pc[off[1] + k * step[1]] != C(0)
                                                        ? pa[off[2] + k * step[2]]
                                                        : pb[off[3] + k * step[3]];
                      });
    });
  });
}

}  // namespace laplex::cpu
