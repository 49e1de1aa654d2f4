#pragma once
// Probabilistic PCA density, the low-rank baseline: x ~ N(mu, W W^T + Psi),
// W (n, k), Psi = diag(psi), psi = softplus(psi_raw) (variances). Exact in
// O(n k^2 + k^3) through the Woodbury identity and the matrix determinant
// lemma with the k x k capacitance M = I + W^T Psi^{-1} W = L L^T:
//   log det Sigma = log det M + sum log psi
//   r^T Sigma^{-1} r = r^T Psi^{-1} r - |L^{-1} W^T Psi^{-1} r|^2
// Composed of engine ops plus the cholesky / triangular_solve ops of
// cholesky_op.h (on CUDA those take a host round trip of k x k and k x B values).
//
// YAML: {type: ppca, dims: n, rank: k, image: [C, H, W] (optional),
//        scale_init: 1.0, mean_init: 0.0}
// Parameters: mu (n), w (n, k), psi (n, raw).
// Initialisation: psi = scale_init^2, W ~ N(0, (0.1 scale_init)^2 / k) so
// the marginal variances start at about 1.01 scale_init^2 with random
// principal directions, mu = mean_init.
// Memory: parameters (2 + k) values per dimension; nll + backward O(n k + B n).
#include "layers/covariance/density_model.h"

namespace laplex {

struct PpcaOptions {
  std::int64_t dims = 0;
  std::int64_t rank = 0;
  std::optional<ImageShape> image;
  double scale_init = 1.0;
  double mean_init = 0.0;
  DType dtype = DType::f32;
};

class Ppca : public DensityModel {
 public:
  Ppca(const PpcaOptions& options, std::uint64_t seed);
  std::string type_name() const override { return "ppca"; }
  std::int64_t dims() const override { return options_.dims; }
  std::int64_t rank() const { return options_.rank; }
  Tensor nll(const Tensor& x) override;
  // x = mu + W e_1 + sqrt(psi) e_2.
  Tensor sample(std::int64_t count, Generator& generator) override;

  Tensor mu;   // (n)
  Tensor w;    // (n, k)
  Tensor psi;  // (n) raw; the noise variance is softplus(psi)

 private:
  PpcaOptions options_;
};

}  // namespace laplex
