#include "layers/fft/fft_circulant.h"

#include <algorithm>

#include "core/ops/complex.h"
#include "core/ops/elementwise.h"
#include "core/ops/fft.h"
#include "core/ops/view.h"
#include "layers/fft/fft_init.h"
#include "layers/registry.h"

namespace laplex {

Tensor fft_circulant(const Tensor& x, const Tensor& spectrum, const Tensor& bias,
                     std::int64_t length, std::int64_t out) {
  if (x.dim() < 1 || x.shape().back() > length)
    throw Error("fft_circulant: expected inputs of at most " + std::to_string(length) +
                " features in the last dim, got " + shape_str(x.shape()));
  if (out < 1 || out > length)
    throw Error("fft_circulant: out = " + std::to_string(out) + " must lie in [1, " +
                std::to_string(length) + "]");
  const Shape spectrum_shape{length / 2 + 1, 2};
  if (spectrum.shape() != spectrum_shape)
    throw Error("fft_circulant: expected a spectrum of shape " + shape_str(spectrum_shape) +
                ", got " + shape_str(spectrum.shape()));
  if (bias.defined() && bias.shape() != Shape{out})
    throw Error("fft_circulant: expected a bias of shape (" + std::to_string(out) + "), got " +
                shape_str(bias.shape()));
  Tensor y = irfft(complex_mul(rfft(x, length), spectrum), length);
  if (out < length) y = slice(y, -1, 0, out);
  if (bias.defined()) y = add(y, bias);
  return y;
}

FftCirculant::FftCirculant(std::int64_t in, std::int64_t out, bool with_bias, std::uint64_t seed,
                           std::uint64_t stream)
    : in_(in), out_(out), length_(std::max(in, out)) {
  if (in < 1 || out < 1)
    throw UsageError("fft_circulant: in and out must be positive, got in = " + std::to_string(in) +
                     ", out = " + std::to_string(out));
  auto rng = fft_init::generator(seed, stream);
  spectrum = fft_init::random_filter_spectrum(length_, in_, rng);
  register_parameter("spectrum", &spectrum);
  if (with_bias) {
    bias = Tensor::zeros({out_});
    register_parameter("bias", &bias);
  }
}

Tensor FftCirculant::forward(const Tensor& x) {
  if (x.dim() < 1 || x.shape().back() != in_)
    throw Error("fft_circulant: expected inputs (..., " + std::to_string(in_) + "), got " +
                shape_str(x.shape()));
  return fft_circulant(x, spectrum, bias, length_, out_);
}

namespace {
const ModuleRegistration registration(
    "fft_circulant", [](config::ConfigNode& node, BuildContext& context) {
      const auto in = node.get<std::int64_t>("in");
      const auto out = node.get<std::int64_t>("out");
      const bool bias = node.get_or<bool>("bias", true);
      if (in < 1) node.fail("in", "expected a positive number of input features");
      if (out < 1) node.fail("out", "expected a positive number of output features");
      return std::make_shared<FftCirculant>(in, out, bias, context.seed, context.take_stream());
    });
}  // namespace

}  // namespace laplex
