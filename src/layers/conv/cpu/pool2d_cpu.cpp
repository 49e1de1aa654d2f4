#include "layers/conv/cpu/pool2d_cpu.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "core/dtype.h"

namespace laplex::cpu {
namespace {

struct PoolGeometry {
  std::int64_t planes, height, width, kernel, stride, padding, oh, ow;
};

PoolGeometry geometry(const Shape& x, const Window2d& window) {
  return {x[0] * x[1],    x[2],           x[3],
          window.kernel,  window.stride,  window.padding,
          window.output_size(x[2]), window.output_size(x[3])};
}

// The part of output (r, q)'s window that lies inside the image.
struct WindowBox {
  std::int64_t y0, y1, x0, x1;  // [y0, y1) x [x0, x1)
};

WindowBox box(const PoolGeometry& g, std::int64_t r, std::int64_t q) {
  const std::int64_t y = r * g.stride - g.padding, x = q * g.stride - g.padding;
  return {std::max<std::int64_t>(y, 0), std::min(y + g.kernel, g.height),
          std::max<std::int64_t>(x, 0), std::min(x + g.kernel, g.width)};
}

// Whether v replaces best as a window's maximum: larger, or the first NaN.
// Scanning a window in row-major order with this test keeps the first
// maximum.
template <class T>
bool beats(T v, T best) {
  return v > best || (std::isnan(v) && !std::isnan(best));
}

// The offset in the plane of the window's first maximum (a NaN wins).
template <class T>
std::int64_t argmax(const PoolGeometry& g, const T* plane, const WindowBox& w) {
  std::int64_t best = w.y0 * g.width + w.x0;
  T best_value = plane[best];
  for (std::int64_t y = w.y0; y < w.y1; ++y)
    for (std::int64_t x = w.x0; x < w.x1; ++x) {
      const T v = plane[y * g.width + x];
      if (beats(v, best_value)) {
        best_value = v;
        best = y * g.width + x;
      }
    }
  return best;
}

// Windows that tile the image (stride = kernel, no padding; the CNN's 2x2
// pools) are never clipped, so no per-window bounds are needed: the
// forward runs along whole rows (each window element updates a row of
// maxima, which the compiler vectorises), and so does the backward's
// search for each window's maximum. kKernel is the kernel when known at compile
// time (2), else 0 (g.kernel).
bool tiles(const PoolGeometry& g) { return g.stride == g.kernel && g.padding == 0; }

template <int kKernel, class T>
void max_forward_tiled(const PoolGeometry& g, const T* plane, T* out) {
  const std::int64_t k = kKernel > 0 ? kKernel : g.kernel;
  for (std::int64_t r = 0; r < g.oh; ++r) {
    const T* top = plane + r * k * g.width;
    T* o = out + r * g.ow;
    for (std::int64_t q = 0; q < g.ow; ++q) o[q] = top[q * k];
    for (std::int64_t i = 0; i < k; ++i)
      for (std::int64_t j = i == 0 ? 1 : 0; j < k; ++j) {
        const T* in = top + i * g.width + j;
        for (std::int64_t q = 0; q < g.ow; ++q) {
          const T v = in[q * k];
          o[q] = beats(v, o[q]) ? v : o[q];
        }
      }
  }
}

// Per output row, the maxima and their offsets in the window are kept in
// `best` and `where` (ow each) and updated with selects, not branches: the
// maximum of random values is a coin flip the branch predictor loses.
template <int kKernel, class T>
void max_backward_tiled(const PoolGeometry& g, const T* plane, const T* grad, T* out,
                        std::vector<T>& best, std::vector<std::int64_t>& where) {
  const std::int64_t k = kKernel > 0 ? kKernel : g.kernel;
  std::fill(out, out + g.height * g.width, T(0));
  for (std::int64_t r = 0; r < g.oh; ++r) {
    const T* top = plane + r * k * g.width;
    for (std::int64_t q = 0; q < g.ow; ++q) {
      best[q] = top[q * k];
      where[q] = 0;
    }
    for (std::int64_t i = 0; i < k; ++i)
      for (std::int64_t j = i == 0 ? 1 : 0; j < k; ++j) {
        const std::int64_t offset = i * g.width + j;
        for (std::int64_t q = 0; q < g.ow; ++q) {
          const T v = top[offset + q * k];
          const bool wins = beats(v, best[q]);
          best[q] = wins ? v : best[q];
          where[q] = wins ? offset : where[q];
        }
      }
    T* out_row = out + r * k * g.width;
    for (std::int64_t q = 0; q < g.ow; ++q) out_row[q * k + where[q]] = grad[r * g.ow + q];
  }
}

template <class T>
void forward(const PoolGeometry& g, bool take_max, const T* x, T* y) {
  if (take_max && tiles(g)) {
#pragma omp parallel for schedule(static) if (g.planes * g.height * g.width >= (1 << 15))
    for (std::int64_t p = 0; p < g.planes; ++p) {
      const T* plane = x + p * g.height * g.width;
      T* out = y + p * g.oh * g.ow;
      if (g.kernel == 2)
        max_forward_tiled<2>(g, plane, out);
      else
        max_forward_tiled<0>(g, plane, out);
    }
    return;
  }
  const T area = static_cast<T>(g.kernel * g.kernel);
#pragma omp parallel for schedule(static) if (g.planes * g.height * g.width >= (1 << 15))
  for (std::int64_t p = 0; p < g.planes; ++p) {
    const T* plane = x + p * g.height * g.width;
    T* out = y + p * g.oh * g.ow;
    for (std::int64_t r = 0; r < g.oh; ++r)
      for (std::int64_t q = 0; q < g.ow; ++q) {
        const WindowBox w = box(g, r, q);
        if (take_max) {
          out[r * g.ow + q] = plane[argmax(g, plane, w)];
          continue;
        }
        T total = 0;
        for (std::int64_t yy = w.y0; yy < w.y1; ++yy)
          for (std::int64_t xx = w.x0; xx < w.x1; ++xx) total += plane[yy * g.width + xx];
        out[r * g.ow + q] = total / area;
      }
  }
}

template <class T>
void backward(const PoolGeometry& g, bool take_max, const T* x, const T* gy, T* gx) {
  if (take_max && tiles(g)) {
#pragma omp parallel if (g.planes * g.height * g.width >= (1 << 15))
    {
      std::vector<T> best(g.ow);
      std::vector<std::int64_t> where(g.ow);
#pragma omp for schedule(static)
      for (std::int64_t p = 0; p < g.planes; ++p) {
        const T* plane = x + p * g.height * g.width;
        const T* grad = gy + p * g.oh * g.ow;
        T* out = gx + p * g.height * g.width;
        if (g.kernel == 2)
          max_backward_tiled<2>(g, plane, grad, out, best, where);
        else
          max_backward_tiled<0>(g, plane, grad, out, best, where);
      }
    }
    return;
  }
  const T area = static_cast<T>(g.kernel * g.kernel);
#pragma omp parallel for schedule(static) if (g.planes * g.height * g.width >= (1 << 15))
  for (std::int64_t p = 0; p < g.planes; ++p) {
    const T* plane = x + p * g.height * g.width;
    const T* grad = gy + p * g.oh * g.ow;
    T* out = gx + p * g.height * g.width;
    std::fill(out, out + g.height * g.width, T(0));
    for (std::int64_t r = 0; r < g.oh; ++r)
      for (std::int64_t q = 0; q < g.ow; ++q) {
        const WindowBox w = box(g, r, q);
        const T v = grad[r * g.ow + q];
        if (take_max) {
          out[argmax(g, plane, w)] += v;
          continue;
        }
        for (std::int64_t yy = w.y0; yy < w.y1; ++yy)
          for (std::int64_t xx = w.x0; xx < w.x1; ++xx) out[yy * g.width + xx] += v / area;
      }
  }
}

}  // namespace

Tensor pool2d_forward(const Tensor& x, const Window2d& window, bool take_max) {
  const PoolGeometry g = geometry(x.shape(), window);
  Tensor y = Tensor::empty({x.size(0), x.size(1), g.oh, g.ow}, x.dtype());
  visit_floating(x.dtype(), "pool2d", [&](auto tag) {
    using T = decltype(tag);
    forward<T>(g, take_max, x.data<T>(), y.data<T>());
  });
  return y;
}

Tensor pool2d_backward(const Tensor& x, const Tensor& grad_y, const Window2d& window,
                       bool take_max) {
  const PoolGeometry g = geometry(x.shape(), window);
  Tensor gx = Tensor::empty(x.shape(), x.dtype());
  visit_floating(x.dtype(), "pool2d", [&](auto tag) {
    using T = decltype(tag);
    backward<T>(g, take_max, x.data<T>(), grad_y.data<T>(), gx.data<T>());
  });
  return gx;
}

}  // namespace laplex::cpu
