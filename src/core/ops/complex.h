#pragma once
// Complex arithmetic on real tensors. The engine has no complex dtype, so a
// complex tensor of shape S is stored as a real tensor of shape (S..., 2)
// whose trailing dim holds (re, im): the interleaved layout of FFTW's
// fftw_complex and cuFFT's cufftComplex, so spectra pass to both libraries
// without a copy. fft.h produces and consumes spectra in this layout.
#include "core/tensor.h"

namespace laplex {

// Elementwise complex product. The dims before the trailing 2 broadcast like
// NumPy; both operands need the same floating dtype and device.
Tensor complex_mul(const Tensor& a, const Tensor& b);
// Complex conjugate: (re, im) -> (re, -im).
Tensor conj(const Tensor& x);

}  // namespace laplex
