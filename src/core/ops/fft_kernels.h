#pragma once
// Backend entry points of the real FFTs (no autograd). Every operand is a
// contiguous tensor starting at the beginning of its own storage, so it has
// the alignment the FFT libraries planned for; `batch` rows of length n
// (signals) or n/2 + 1 complex bins (spectra).
#include <cstdint>

#include "core/tensor.h"

namespace laplex {

namespace cpu {
// out (batch, n/2+1, 2) = unnormalised DFT of x (batch, n).
void rfft(const Tensor& x, const Tensor& out, std::int64_t batch, std::int64_t n);
// out (batch, n) = inverse DFT / n of spectrum (batch, n/2+1, 2); the
// spectrum is overwritten (complex-to-real transforms use it as scratch).
void irfft(const Tensor& spectrum, const Tensor& out, std::int64_t batch, std::int64_t n);
}  // namespace cpu

namespace cuda {
void rfft(const Tensor& x, const Tensor& out, std::int64_t batch, std::int64_t n);
void irfft(const Tensor& spectrum, const Tensor& out, std::int64_t batch, std::int64_t n);
}  // namespace cuda

}  // namespace laplex
