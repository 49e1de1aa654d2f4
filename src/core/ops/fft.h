#pragma once
// Real FFTs along the last dim, with autograd.
//
// Spectra are real tensors with a trailing dim of 2 holding (re, im) (see
// complex.h): the half spectrum of a real signal of length n has
// n/2 + 1 complex bins, so rfft maps (..., n) to (..., n/2 + 1, 2).
// Conventions follow numpy.fft: rfft is unnormalised,
//   X[k] = sum_j x[j] exp(-2 pi i j k / n),   k = 0 .. n/2,
// and irfft is its inverse, normalised by 1/n, reading the half spectrum as
// a Hermitian one. The imaginary parts of the DC bin (k = 0) and, for even n,
// the Nyquist bin (k = n/2) cannot appear in a real signal: irfft ignores
// them and their gradient is zero.
//
// Backwards are the exact adjoints. Because each interior bin stands for two
// bins of the full spectrum (k and n - k) while DC and Nyquist stand for one,
// the adjoint of rfft is n * irfft of the incoming gradient with its interior
// bins halved, and the adjoint of irfft is rfft / n with interior bins
// doubled; neither is the plain inverse.
//
// Backends: FFTW on the CPU (fftwf_* for float32, fftw_* for float64), cuFFT
// on GPUs. Plans are cached per (n, batch, dtype, direction[, device]) in a
// process-wide cache guarded by a mutex; FFTW's planner is not thread-safe,
// so every FFTW planner call in laplex goes through that cache. Plans are
// made with FFTW_ESTIMATE on scratch buffers, so planning never touches the
// caller's data.
#include <cstdint>

#include "core/tensor.h"

namespace laplex {

// Half spectrum of the real signals along x's last dim, zero-padded to length
// n (numpy's rfft(x, n) with x.size(-1) <= n). Returns (..., n/2 + 1, 2).
Tensor rfft(const Tensor& x, std::int64_t n);
Tensor rfft(const Tensor& x);  // n = x.size(-1)
// Real signal of length n from its half spectrum X of shape (..., n/2 + 1, 2).
// Returns (..., n).
Tensor irfft(const Tensor& X, std::int64_t n);

}  // namespace laplex
