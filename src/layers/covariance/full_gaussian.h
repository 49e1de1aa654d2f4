#pragma once
// Full-covariance Gaussian density, the dense baseline: x ~ N(mu, L L^T),
// L lower triangular with a softplus diagonal, so every L is a valid Cholesky
// factor (no constraint to enforce):
//   L = tril(l, -1) + diag(softplus(diag(l)))
//   NLL = 0.5 (n log 2pi + 2 sum log L_ii + |L^{-1} (x - mu)|^2).
// O(n^2) parameters and memory, O(n^2 B) time per NLL: it refuses
// dims > max_dims (default 4096, 64 MiB of float32 parameters; the gradient,
// Adam moments and the assembled L multiply that by about 5).
//
// YAML: {type: full, dims: n, image: [C, H, W] (optional), scale_init: 1.0,
//        mean_init: 0.0, max_dims: 4096}
// Parameters: mu (n), l (n, n) raw (its strictly upper part is unused and
// gets zero gradient). Initialisation: L = scale_init I, mu = mean_init.
#include "layers/covariance/density_model.h"

namespace laplex {

constexpr std::int64_t kFullGaussianMaxDims = 4096;

struct FullGaussianOptions {
  std::int64_t dims = 0;
  std::optional<ImageShape> image;
  double scale_init = 1.0;
  double mean_init = 0.0;
  std::int64_t max_dims = kFullGaussianMaxDims;
  DType dtype = DType::f32;
};

class FullGaussian : public DensityModel {
 public:
  explicit FullGaussian(const FullGaussianOptions& options);
  std::string type_name() const override { return "full"; }
  std::int64_t dims() const override { return options_.dims; }
  Tensor nll(const Tensor& x) override;
  // x = mu + L e.
  Tensor sample(std::int64_t count, Generator& generator) override;
  // The Cholesky factor L (n, n), differentiable.
  Tensor factor() const;

  Tensor mu;  // (n)
  Tensor l;   // (n, n) raw

 private:
  FullGaussianOptions options_;
  Tensor solve_factor() const;
};

}  // namespace laplex
