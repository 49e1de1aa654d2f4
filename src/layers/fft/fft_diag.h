#pragma once
// fft_diag: products of diagonal and circulant factors in the manner of
// ACDC / CDFlow,
//   y = [D_out,F C_F ... D_out,1 C_1 D_in x_pad][:out] + bias,
// with L = max(in, out), diagonals of length L and circulants C_f applied
// through the FFT as in fft_circulant.h (same rule for in != out: x is
// zero-padded to L; the output keeps its first `out` entries). With the
// default factors = 1 this is y = D1 C D2 x. One D_in suffices: two diagonals
// in a row would multiply into one.
//
// YAML: {type: fft_diag, in: N, out: M, bias: true, factors: 1}
// Parameters: d_in (L), spectrum (factors, L/2 + 1, 2), d_out (factors, L),
// bias (out) when enabled. Entries of d_in past `in` (in < out) and of the
// last d_out past `out` (in > out) only meet zeros or dropped outputs, so
// they stay at their initial values.
//
// Initialisation: d_in and d_out random signs (+1/-1), so they keep
// variances exactly; the first circulant's taps i.i.d. N(0, 1/in) and the
// others' N(0, 1/L), as in fft_circulant.h, so Var(y) ≈ Var(x) at init for
// inputs of zero mean and i.i.d. entries. Bias is 0.
#include <cstdint>

#include "layers/module.h"

namespace laplex {

// The layer as a function. x (..., in) with in <= length, d_in (length),
// spectrum (factors, length/2 + 1, 2), d_out (factors, length), bias (out) or
// undefined; returns (..., out).
Tensor fft_diag(const Tensor& x, const Tensor& d_in, const Tensor& spectrum, const Tensor& d_out,
                const Tensor& bias, std::int64_t length, std::int64_t out);

class FftDiag : public Module {
 public:
  FftDiag(std::int64_t in, std::int64_t out, bool bias, std::int64_t factors, std::uint64_t seed,
          std::uint64_t stream);
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "fft_diag"; }

  std::int64_t in_features() const { return in_; }
  std::int64_t out_features() const { return out_; }
  std::int64_t length() const { return length_; }
  std::int64_t factors() const { return factors_; }

  Tensor d_in, spectrum, d_out;
  Tensor bias;  // undefined without bias

 private:
  std::int64_t in_, out_, length_, factors_;
};

}  // namespace laplex
