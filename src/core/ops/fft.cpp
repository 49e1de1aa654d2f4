#include "core/ops/fft.h"

#include "core/autograd/node.h"
#include "core/ops/copy.h"
#include "core/ops/dispatch.h"
#include "core/ops/elementwise.h"
#include "core/ops/fft_kernels.h"
#include "core/ops/view.h"

namespace laplex {

namespace {

std::int64_t bins(std::int64_t n) { return n / 2 + 1; }

std::int64_t rows(const Shape& shape, std::size_t trailing) {
  std::int64_t r = 1;
  for (std::size_t d = 0; d + trailing < shape.size(); ++d) r *= shape[d];
  return r;
}

// True when `t` can go to an FFT library as is: dense, and at the start of
// its storage, so aligned as the plans assume.
bool library_ready(const Tensor& t) { return t.is_contiguous() && t.offset() == 0; }

// x (..., m) as a fresh or reused contiguous (..., n), zero-padded when m < n.
Tensor padded_signal(const Tensor& x, std::int64_t n) {
  const std::int64_t m = x.shape().back();
  if (m == n && library_ready(x)) return x.detach();
  Shape shape = x.shape();
  shape.back() = n;
  Tensor buffer = m == n ? Tensor::empty(shape, x.dtype(), x.device())
                         : Tensor::zeros(shape, x.dtype(), x.device());
  copy_into(x.detach(), make_view(buffer, x.shape(), buffer.strides(), 0));
  return buffer;
}

// Per-bin weights (bins(n), 2) with `interior` for 0 < k < n/2 and `edge`
// on the real parts of DC and Nyquist; their imaginary parts get 0, which
// the adjoints need (those parts never reach a real signal).
Tensor bin_weights(std::int64_t n, double edge, double interior, const Tensor& like) {
  const std::int64_t k_count = bins(n);
  std::vector<double> w(static_cast<std::size_t>(2 * k_count), interior);
  w[0] = edge;
  w[1] = 0.0;
  if (n % 2 == 0) {
    w[2 * (k_count - 1)] = edge;
    w[2 * (k_count - 1) + 1] = 0.0;
  }
  return Tensor::from_vector(w, {k_count, 2}).to(like.dtype()).to(like.device());
}

void check_real(const Tensor& t, const char* op) {
  if (!is_floating(t.dtype()))
    throw Error(std::string(op) + ": expected a floating dtype, got " + dtype_name(t.dtype()));
}

Tensor run_rfft(const Tensor& x, std::int64_t n) {
  const Tensor signal = padded_signal(x, n);
  Shape shape = x.shape();
  shape.back() = bins(n);
  shape.push_back(2);
  Tensor out = Tensor::empty(shape, x.dtype(), x.device());
  const std::int64_t batch = rows(x.shape(), 1);
  if (batch == 0) return out;
  if (use_cuda(x)) {
#if LAPLEX_WITH_CUDA
    cuda::rfft(signal, out, batch, n);
#endif
  } else {
    cpu::rfft(signal, out, batch, n);
  }
  return out;
}

Tensor run_irfft(const Tensor& X, std::int64_t n) {
  Shape shape(X.shape().begin(), X.shape().end() - 1);
  shape.back() = n;
  Tensor out = Tensor::empty(shape, X.dtype(), X.device());
  const std::int64_t batch = rows(X.shape(), 2);
  if (batch == 0) return out;
  // Always a private copy: complex-to-real transforms overwrite their input.
  Tensor spectrum = Tensor::empty(X.shape(), X.dtype(), X.device());
  copy_into(X.detach(), spectrum);
  // Define the result for any input by dropping the imaginary parts that a
  // Hermitian spectrum cannot have, rather than trusting each library to.
  const std::int64_t k_count = bins(n);
  fill_tensor(make_view(spectrum, {batch}, {2 * k_count}, 1), 0.0);
  if (n % 2 == 0) fill_tensor(make_view(spectrum, {batch}, {2 * k_count}, 2 * k_count - 1), 0.0);
  if (use_cuda(X)) {
#if LAPLEX_WITH_CUDA
    cuda::irfft(spectrum, out, batch, n);
#endif
  } else {
    cpu::irfft(spectrum, out, batch, n);
  }
  return out;
}

}  // namespace

Tensor rfft(const Tensor& x, std::int64_t n) {
  check_real(x, "rfft");
  if (x.dim() < 1) throw Error("rfft: expected at least one dim, got a scalar");
  const std::int64_t m = x.shape().back();
  if (n < 1) throw Error("rfft: length n must be positive, got " + std::to_string(n));
  if (m > n)
    throw Error("rfft: signal length " + std::to_string(m) + " exceeds n = " + std::to_string(n) +
                " (only zero-padding is supported)");
  Tensor out = run_rfft(x, n);
  autograd::record(out, {x}, "rfft", [n, m](const std::vector<Tensor>& g) {
    // grad x_j = Re sum_k G_k e^{+2 pi i jk/n} over the half spectrum, which
    // is the unnormalised inverse (n * irfft) of G with interior bins halved.
    Tensor gx = irfft(mul(g[0], bin_weights(n, double(n), 0.5 * double(n), g[0])), n);
    if (m < n) gx = slice(gx, -1, 0, m);
    return std::vector<Tensor>{gx};
  });
  return out;
}

Tensor rfft(const Tensor& x) {
  if (x.dim() < 1) throw Error("rfft: expected at least one dim, got a scalar");
  return rfft(x, x.shape().back());
}

Tensor irfft(const Tensor& X, std::int64_t n) {
  check_real(X, "irfft");
  if (n < 1) throw Error("irfft: length n must be positive, got " + std::to_string(n));
  if (X.dim() < 2 || X.shape().back() != 2 || X.shape()[X.dim() - 2] != bins(n))
    throw Error("irfft: expected a half spectrum of shape (..., " + std::to_string(bins(n)) +
                ", 2) for n = " + std::to_string(n) + ", got " + shape_str(X.shape()));
  Tensor out = run_irfft(X, n);
  autograd::record(out, {X}, "irfft", [n](const std::vector<Tensor>& g) {
    // Interior bin k appears twice in the Hermitian sum (as k and n - k).
    const Tensor gx = rfft(g[0], n);
    return std::vector<Tensor>{mul(gx, bin_weights(n, 1.0 / double(n), 2.0 / double(n), gx))};
  });
  return out;
}

}  // namespace laplex
