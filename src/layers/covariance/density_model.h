#pragma once
// DensityModel: a module that assigns a probability density to flattened
// images (or any vectors) x of n values, for the trainer's `covariance` task
// and laplex-eval. forward(x) is the per-row negative log-density, so a
// training loss is mean(forward(x)); bits per dimension follow from it
// (laplex-math.md section 4).
#include <array>
#include <cstdint>
#include <optional>

#include "core/random.h"
#include "layers/module.h"

namespace laplex {

// (C, H, W) of the pictures whose flattening (C-major, like NCHW tensors:
// index c*H*W + h*W + w) the model sees; only labels pictures and guides
// initialisation.
using ImageShape = std::array<std::int64_t, 3>;

class DensityModel : public Module {
 public:
  // (B) negative log-density in nats of each row of x (B, n). Differentiable
  // with respect to the parameters and x.
  virtual Tensor nll(const Tensor& x) = 0;
  // (count, n) independent draws, without autograd, on the model's device.
  virtual Tensor sample(std::int64_t count, Generator& generator) = 0;
  virtual std::int64_t dims() const = 0;
  Tensor forward(const Tensor& x) override { return nll(x); }

  const std::optional<ImageShape>& image_shape() const { return image_; }
  // Checks C*H*W == dims() (UsageError naming `image`).
  void set_image_shape(const ImageShape& image);

 protected:
  // Throws Error unless x is (B, dims()) of the parameters' dtype and device.
  void check_input(const Tensor& x, const Tensor& like) const;

 private:
  std::optional<ImageShape> image_;
};

// Bits per dimension of an NLL (nats, one row of n values) on 8-bit data
// dequantised uniformly and scaled to [0, 1] (laplex-math.md section 4):
// (nll + n log 256) / (n ln 2).
double bits_per_dimension(double nll, std::int64_t n);

}  // namespace laplex
