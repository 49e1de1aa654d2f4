#pragma once
// fft_circulant: a circulant matrix applied through the FFT,
//   y = irfft(rfft(x_pad, L) * spectrum, L)[:out] + bias,   L = max(in, out),
// i.e. y = C x with C[j][i] = c[(j - i) mod L] and c = irfft(spectrum, L).
// in < out: x is zero-padded to L. in > out: the output keeps its first
// `out` entries. Cost O(L log L) per row and L/2 + 1 complex parameters.
//
// YAML: {type: fft_circulant, in: N, out: M, bias: true}
// Parameters: spectrum (L/2 + 1, 2) as (re, im) per bin (see core/ops/fft.h;
// the imaginary parts of the DC and, for even L, Nyquist bins have no effect
// and get zero gradient), bias (out) when enabled.
//
// Initialisation: spectrum = rfft(c) with taps c i.i.d. N(0, 1/in), so each
// output sums `in` products and Var(y) ≈ Var(x) for inputs of zero mean and
// i.i.d. entries (the LeCun rule of a dense layer; no ReLU gain). Bias is 0.
#include <cstdint>

#include "layers/module.h"

namespace laplex {

// The layer as a function. x (..., in) with in <= length, spectrum
// (length/2 + 1, 2), bias (out) or undefined; returns (..., out).
Tensor fft_circulant(const Tensor& x, const Tensor& spectrum, const Tensor& bias,
                     std::int64_t length, std::int64_t out);

class FftCirculant : public Module {
 public:
  FftCirculant(std::int64_t in, std::int64_t out, bool bias, std::uint64_t seed,
               std::uint64_t stream);
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "fft_circulant"; }

  std::int64_t in_features() const { return in_; }
  std::int64_t out_features() const { return out_; }
  std::int64_t length() const { return length_; }

  Tensor spectrum;
  Tensor bias;  // undefined without bias

 private:
  std::int64_t in_, out_, length_;
};

}  // namespace laplex
