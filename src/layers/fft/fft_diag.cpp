#include "layers/fft/fft_diag.h"

#include <algorithm>
#include <vector>

#include "core/ops/elementwise.h"
#include "core/ops/view.h"
#include "layers/fft/fft_circulant.h"
#include "layers/fft/fft_init.h"
#include "layers/registry.h"

namespace laplex {

namespace {

// Row f of a (factors, ...) parameter, keeping its autograd link.
Tensor factor(const Tensor& stacked, std::int64_t f) {
  return squeeze(slice(stacked, 0, f, f + 1), 0);
}

}  // namespace

Tensor fft_diag(const Tensor& x, const Tensor& d_in, const Tensor& spectrum, const Tensor& d_out,
                const Tensor& bias, std::int64_t length, std::int64_t out) {
  if (x.dim() < 1 || x.shape().back() > length)
    throw Error("fft_diag: expected inputs of at most " + std::to_string(length) +
                " features in the last dim, got " + shape_str(x.shape()));
  if (d_in.shape() != Shape{length})
    throw Error("fft_diag: expected d_in of shape (" + std::to_string(length) + "), got " +
                shape_str(d_in.shape()));
  if (spectrum.dim() != 3 || spectrum.shape()[0] < 1)
    throw Error("fft_diag: expected a spectrum of shape (factors, " +
                std::to_string(length / 2 + 1) + ", 2), got " + shape_str(spectrum.shape()));
  const std::int64_t factors = spectrum.shape()[0];
  if (d_out.shape() != Shape{factors, length})
    throw Error("fft_diag: expected d_out of shape " + shape_str({factors, length}) + ", got " +
                shape_str(d_out.shape()));
  if (bias.defined() && bias.shape() != Shape{out})
    throw Error("fft_diag: expected a bias of shape (" + std::to_string(out) + "), got " +
                shape_str(bias.shape()));
  // D_in on the unpadded input: its entries past `in` would meet zeros.
  Tensor z = mul(x, slice(d_in, 0, 0, x.shape().back()));
  for (std::int64_t f = 0; f < factors; ++f) {
    const bool last = f + 1 == factors;
    const std::int64_t width = last ? out : length;
    z = fft_circulant(z, factor(spectrum, f), Tensor(), length, width);
    z = mul(z, slice(factor(d_out, f), 0, 0, width));
  }
  if (bias.defined()) z = add(z, bias);
  return z;
}

FftDiag::FftDiag(std::int64_t in, std::int64_t out, bool with_bias, std::int64_t factors,
                 std::uint64_t seed, std::uint64_t stream)
    : in_(in), out_(out), length_(std::max(in, out)), factors_(factors) {
  if (in < 1 || out < 1 || factors < 1)
    throw UsageError("fft_diag: in, out and factors must be positive, got in = " +
                     std::to_string(in) + ", out = " + std::to_string(out) +
                     ", factors = " + std::to_string(factors));
  auto rng = fft_init::generator(seed, stream);
  d_in = fft_init::random_signs({length_}, rng);
  std::vector<float> spectra;
  for (std::int64_t f = 0; f < factors_; ++f) {
    // Only the first circulant sees the zero padding: the others get all L entries.
    const auto one = fft_init::random_filter_spectrum(length_, f == 0 ? in_ : length_, rng);
    const auto values = one.to_vector<float>();
    spectra.insert(spectra.end(), values.begin(), values.end());
  }
  spectrum = Tensor::from_vector(spectra, {factors_, length_ / 2 + 1, 2});
  d_out = fft_init::random_signs({factors_, length_}, rng);
  register_parameter("d_in", &d_in);
  register_parameter("spectrum", &spectrum);
  register_parameter("d_out", &d_out);
  if (with_bias) {
    bias = Tensor::zeros({out_});
    register_parameter("bias", &bias);
  }
}

Tensor FftDiag::forward(const Tensor& x) {
  if (x.dim() < 1 || x.shape().back() != in_)
    throw Error("fft_diag: expected inputs (..., " + std::to_string(in_) + "), got " +
                shape_str(x.shape()));
  return fft_diag(x, d_in, spectrum, d_out, bias, length_, out_);
}

namespace {
const ModuleRegistration registration(
    "fft_diag", [](config::ConfigNode& node, BuildContext& context) {
      const auto in = node.get<std::int64_t>("in");
      const auto out = node.get<std::int64_t>("out");
      const bool bias = node.get_or<bool>("bias", true);
      const auto factors = node.get_or<std::int64_t>("factors", 1);
      if (in < 1) node.fail("in", "expected a positive number of input features");
      if (out < 1) node.fail("out", "expected a positive number of output features");
      // Each factor is a (length) spectrum and a pass of FFTs per call.
      if (factors < 1 || factors > 1024) node.fail("factors", "must be in [1, 1024]");
      return std::make_shared<FftDiag>(in, out, bias, factors, context.seed,
                                       context.take_stream());
    });
}  // namespace

}  // namespace laplex
