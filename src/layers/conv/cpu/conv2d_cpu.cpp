#include "layers/conv/cpu/conv2d_cpu.h"

#include <cblas.h>

#include <algorithm>
#include <memory>
#include <vector>

#include "core/dtype.h"

namespace laplex::cpu {
namespace {

// The sizes of one convolution, read once from the tensors.
struct ConvGeometry {
  std::int64_t batch, channels, height, width, out, kernel, stride, padding, oh, ow;
  std::int64_t rows() const { return channels * kernel * kernel; }  // C k^2
  std::int64_t pixels() const { return oh * ow; }                   // L
  std::int64_t image() const { return channels * height * width; }
};

ConvGeometry geometry(const Shape& x, const Shape& weight, const Window2d& window) {
  return {x[0],           x[1],           x[2],
          x[3],           weight[0],      window.kernel,
          window.stride,  window.padding, window.output_size(x[2]),
          window.output_size(x[3])};
}

void gemm(bool ta, bool tb, std::int64_t m, std::int64_t n, std::int64_t k, const float* a,
          std::int64_t lda, const float* b, std::int64_t ldb, float beta, float* c,
          std::int64_t ldc) {
  cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, m, n,
              k, 1.0f, a, lda, b, ldb, beta, c, ldc);
}

void gemm(bool ta, bool tb, std::int64_t m, std::int64_t n, std::int64_t k, const double* a,
          std::int64_t lda, const double* b, std::int64_t ldb, double beta, double* c,
          std::int64_t ldc) {
  cblas_dgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, m, n,
              k, 1.0, a, lda, b, ldb, beta, c, ldc);
}

// The output columns q whose input column q s + j - p lies inside [0, W).
struct ColumnRange {
  std::int64_t first, last;  // [first, last)
};

ColumnRange inside_columns(const ConvGeometry& g, std::int64_t j) {
  const std::int64_t offset = j - g.padding;  // input column of q = 0
  std::int64_t first = offset >= 0 ? 0 : (-offset + g.stride - 1) / g.stride;
  std::int64_t last = g.width - offset <= 0 ? 0 : (g.width - offset + g.stride - 1) / g.stride;
  last = std::min(last, g.ow);
  first = std::min(first, last);
  return {first, last};
}

// A chunk of images whose im2col columns lie side by side: row e of the
// (C k^2, count L) buffer holds image first + b's columns at b L. One GEMM
// then covers the chunk with a long dimension of count L, which BLAS runs
// far better than one small GEMM per image.
struct Chunk {
  std::int64_t first, count;
};

// Images per chunk: the column buffer stays under 32 MB.
std::int64_t chunk_images(const ConvGeometry& g, std::size_t element) {
  const std::int64_t per_image = g.rows() * g.pixels() * static_cast<std::int64_t>(element);
  return std::clamp<std::int64_t>((std::int64_t(32) << 20) / std::max<std::int64_t>(per_image, 1),
                                  1, std::max<std::int64_t>(g.batch, 1));
}

// cols[(c k + i) k + j][r OW + q] = image[c][r s + i - p][q s + j - p], 0
// outside; rows `ld` apart.
template <class T>
void im2col(const ConvGeometry& g, const T* image, T* cols, std::int64_t ld) {
  const std::int64_t k = g.kernel;
  for (std::int64_t c = 0; c < g.channels; ++c)
    for (std::int64_t i = 0; i < k; ++i)
      for (std::int64_t j = 0; j < k; ++j) {
        T* row = cols + ((c * k + i) * k + j) * ld;
        const ColumnRange inside = inside_columns(g, j);
        const std::int64_t shift = j - g.padding;
        for (std::int64_t r = 0; r < g.oh; ++r) {
          T* out = row + r * g.ow;
          const std::int64_t y = r * g.stride + i - g.padding;
          if (y < 0 || y >= g.height) {
            std::fill(out, out + g.ow, T(0));
            continue;
          }
          const T* in = image + (c * g.height + y) * g.width;
          std::fill(out, out + inside.first, T(0));
          for (std::int64_t q = inside.first; q < inside.last; ++q)
            out[q] = in[q * g.stride + shift];
          std::fill(out + inside.last, out + g.ow, T(0));
        }
      }
}

// The adjoint of im2col: every column entry is added back to its pixel.
template <class T>
void col2im(const ConvGeometry& g, const T* cols, std::int64_t ld, T* image) {
  const std::int64_t k = g.kernel;
  std::fill(image, image + g.image(), T(0));
  for (std::int64_t c = 0; c < g.channels; ++c)
    for (std::int64_t i = 0; i < k; ++i)
      for (std::int64_t j = 0; j < k; ++j) {
        const T* row = cols + ((c * k + i) * k + j) * ld;
        const ColumnRange inside = inside_columns(g, j);
        const std::int64_t shift = j - g.padding;
        for (std::int64_t r = 0; r < g.oh; ++r) {
          const std::int64_t y = r * g.stride + i - g.padding;
          if (y < 0 || y >= g.height) continue;
          T* out = image + (c * g.height + y) * g.width;
          const T* in = row + r * g.ow;
          for (std::int64_t q = inside.first; q < inside.last; ++q)
            out[q * g.stride + shift] += in[q];
        }
      }
}

template <class T>
void chunk_im2col(const ConvGeometry& g, const T* x, const Chunk& chunk, T* cols) {
  const std::int64_t ld = chunk.count * g.pixels();
#pragma omp parallel for schedule(static) if (chunk.count > 1)
  for (std::int64_t b = 0; b < chunk.count; ++b)
    im2col(g, x + (chunk.first + b) * g.image(), cols + b * g.pixels(), ld);
}

// (B, O, L) images of the chunk <-> the (O, count L) matrix a GEMM uses.
template <class T>
void chunk_to_matrix(const ConvGeometry& g, const T* gy, const Chunk& chunk, T* matrix) {
  const std::int64_t L = g.pixels(), ld = chunk.count * L;
#pragma omp parallel for collapse(2) schedule(static) if (chunk.count > 1)
  for (std::int64_t b = 0; b < chunk.count; ++b)
    for (std::int64_t o = 0; o < g.out; ++o)
      std::copy_n(gy + ((chunk.first + b) * g.out + o) * L, L, matrix + o * ld + b * L);
}

// Calls step(chunk, cols, matrix) for each chunk of the batch, with the
// chunk's (C k^2, count L) column buffer and (O, count L) matrix (reused).
template <class T, class Step>
void for_each_chunk(const ConvGeometry& g, Step step) {
  const std::int64_t L = g.pixels(), per_chunk = chunk_images(g, sizeof(T));
  // Left uninitialised: every step writes each buffer whole (im2col and the
  // layout copies cover every entry, GEMMs run with beta 0) before reading
  // it, and zeroing 2 x 29 MB per call was 6% of a forward.
  const std::unique_ptr<T[]> cols(new T[g.rows() * per_chunk * L]);
  const std::unique_ptr<T[]> matrix(new T[g.out * per_chunk * L]);
  for (std::int64_t first = 0; first < g.batch; first += per_chunk)
    step(Chunk{first, std::min(per_chunk, g.batch - first)}, cols.get(), matrix.get());
}

template <class T>
void forward(const ConvGeometry& g, const T* x, const T* w, const T* bias, T* y) {
  const std::int64_t rows = g.rows(), L = g.pixels();
  for_each_chunk<T>(g, [&](const Chunk& chunk, T* cols, T* product) {
    const std::int64_t ld = chunk.count * L;
    chunk_im2col(g, x, chunk, cols);
    gemm(false, false, g.out, ld, rows, w, rows, cols, ld, T(0), product, ld);
#pragma omp parallel for collapse(2) schedule(static) if (chunk.count > 1)
    for (std::int64_t b = 0; b < chunk.count; ++b)
      for (std::int64_t o = 0; o < g.out; ++o) {
        const T shift = bias ? bias[o] : T(0);
        const T* in = product + o * ld + b * L;
        T* out = y + ((chunk.first + b) * g.out + o) * L;
        for (std::int64_t l = 0; l < L; ++l) out[l] = in[l] + shift;
      }
  });
}

template <class T>
void backward_data(const ConvGeometry& g, const T* gy, const T* w, T* gx) {
  const std::int64_t rows = g.rows(), L = g.pixels();
  for_each_chunk<T>(g, [&](const Chunk& chunk, T* cols, T* grad) {
    const std::int64_t ld = chunk.count * L;
    chunk_to_matrix(g, gy, chunk, grad);
    gemm(true, false, rows, ld, g.out, w, rows, grad, ld, T(0), cols, ld);
#pragma omp parallel for schedule(static) if (chunk.count > 1)
    for (std::int64_t b = 0; b < chunk.count; ++b)
      col2im(g, cols + b * L, ld, gx + (chunk.first + b) * g.image());
  });
}

template <class T>
void backward_filter(const ConvGeometry& g, const T* gy, const T* x, T* gw) {
  const std::int64_t rows = g.rows(), L = g.pixels();
  if (g.batch == 0) std::fill(gw, gw + g.out * rows, T(0));
  for_each_chunk<T>(g, [&](const Chunk& chunk, T* cols, T* grad) {
    const std::int64_t ld = chunk.count * L;
    chunk_im2col(g, x, chunk, cols);
    chunk_to_matrix(g, gy, chunk, grad);
    gemm(false, true, g.out, rows, ld, grad, ld, cols, ld, T(chunk.first == 0 ? 0 : 1), gw,
         rows);
  });
}

}  // namespace

Tensor conv2d_forward(const Tensor& x, const Tensor& weight, const Tensor& bias,
                      const Window2d& window) {
  const ConvGeometry g = geometry(x.shape(), weight.shape(), window);
  Tensor y = Tensor::empty({g.batch, g.out, g.oh, g.ow}, x.dtype());
  visit_floating(x.dtype(), "conv2d", [&](auto tag) {
    using T = decltype(tag);
    forward<T>(g, x.data<T>(), weight.data<T>(), bias.defined() ? bias.data<T>() : nullptr,
               y.data<T>());
  });
  return y;
}

Tensor conv2d_backward_data(const Tensor& grad_y, const Tensor& weight, const Shape& x_shape,
                            const Window2d& window) {
  const ConvGeometry g = geometry(x_shape, weight.shape(), window);
  Tensor gx = Tensor::empty(x_shape, grad_y.dtype());
  visit_floating(grad_y.dtype(), "conv2d", [&](auto tag) {
    using T = decltype(tag);
    backward_data<T>(g, grad_y.data<T>(), weight.data<T>(), gx.data<T>());
  });
  return gx;
}

Tensor conv2d_backward_filter(const Tensor& grad_y, const Tensor& x, const Shape& weight_shape,
                              const Window2d& window) {
  const ConvGeometry g = geometry(x.shape(), weight_shape, window);
  Tensor gw = Tensor::empty(weight_shape, grad_y.dtype());
  visit_floating(grad_y.dtype(), "conv2d", [&](auto tag) {
    using T = decltype(tag);
    backward_filter<T>(g, grad_y.data<T>(), x.data<T>(), gw.data<T>());
  });
  return gw;
}

Tensor conv2d_backward_bias(const Tensor& grad_y) {
  const std::int64_t batch = grad_y.size(0), out = grad_y.size(1);
  const std::int64_t pixels = grad_y.size(2) * grad_y.size(3);
  Tensor gb = Tensor::empty({out}, grad_y.dtype());
  visit_floating(grad_y.dtype(), "conv2d", [&](auto tag) {
    using T = decltype(tag);
    const T* gy = grad_y.data<T>();
    T* result = gb.data<T>();
#pragma omp parallel for schedule(static) if (batch * out * pixels >= (1 << 16))
    for (std::int64_t o = 0; o < out; ++o) {
      T total = 0;
      for (std::int64_t b = 0; b < batch; ++b) {
        const T* plane = gy + (b * out + o) * pixels;
        for (std::int64_t l = 0; l < pixels; ++l) total += plane[l];
      }
      result[o] = total;
    }
  });
  return gb;
}

}  // namespace laplex::cpu
