#pragma once
// Diagonal Gaussian density, the baseline without correlations:
// x ~ N(mu, diag(s)^2), s = softplus(scale).
// NLL = 0.5 n log 2pi + sum_i log s_i + 0.5 sum_i ((x_i - mu_i)/s_i)^2.
//
// YAML: {type: diagonal, dims: n, image: [C, H, W] (optional),
//        scale_init: 1.0, mean_init: 0.0}
// Parameters: mu (n), scale (n, raw). Composed of engine ops: CPU and CUDA.
// Memory of nll + backward: O(B n) temporaries.
#include "layers/covariance/density_model.h"

namespace laplex {

struct DiagonalGaussianOptions {
  std::int64_t dims = 0;
  std::optional<ImageShape> image;
  double scale_init = 1.0;
  double mean_init = 0.0;
  DType dtype = DType::f32;
};

class DiagonalGaussian : public DensityModel {
 public:
  explicit DiagonalGaussian(const DiagonalGaussianOptions& options);
  std::string type_name() const override { return "diagonal"; }
  std::int64_t dims() const override { return options_.dims; }
  Tensor nll(const Tensor& x) override;
  Tensor sample(std::int64_t count, Generator& generator) override;

  Tensor mu;     // (n)
  Tensor scale;  // (n) raw; the standard deviation is softplus(scale)

 private:
  DiagonalGaussianOptions options_;
};

}  // namespace laplex
