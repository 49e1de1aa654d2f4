#include "layers/covariance/full_gaussian.h"

#include <cmath>
#include <numbers>
#include <string>
#include <vector>

#include "core/autograd/grad_mode.h"
#include "core/ops/elementwise.h"
#include "core/ops/index.h"
#include "core/ops/matmul.h"
#include "core/ops/reduce.h"
#include "core/ops/view.h"
#include "layers/covariance/cholesky_op.h"
#include "layers/covariance/density_config.h"
#include "layers/registry.h"

namespace laplex {

namespace {

// The diagonal of a flattened (n, n) matrix: every (n + 1)-th element, as a
// view (differentiable, and made on whatever device the matrix is on).
Tensor diagonal_of(const Tensor& flat, std::int64_t n) { return slice(flat, 0, 0, n * n, n + 1); }

}  // namespace

FullGaussian::FullGaussian(const FullGaussianOptions& o) : options_(o) {
  if (o.dims < 1) throw UsageError("full: dims must be >= 1");
  if (o.dims > o.max_dims)
    throw UsageError("full: dims = " + std::to_string(o.dims) +
                     " exceeds max_dims = " + std::to_string(o.max_dims) + " (O(dims^2) memory)");
  if (!(o.scale_init > 0)) throw UsageError("full: scale_init must be > 0");
  if (o.image) set_image_shape(*o.image);
  const std::int64_t n = o.dims;
  mu = Tensor::full({n}, o.mean_init, o.dtype);
  std::vector<double> init(n * n, 0.0);
  for (std::int64_t i = 0; i < n; ++i) init[i * n + i] = inverse_softplus(o.scale_init);
  l = Tensor::from_vector(init, {n, n}).to(o.dtype);
  register_parameter("mu", &mu);
  register_parameter("l", &l);
}

// l with its diagonal replaced by softplus(diag(l)); the strictly upper part
// stays, which triangular_solve ignores (and gives no gradient).
// Written as l + I (softplus(l) - l) with I made on l's device, so no index
// tensor is uploaded (and the GPU waited for) on every call.
Tensor FullGaussian::solve_factor() const {
  const std::int64_t n = dims();
  Tensor identity = Tensor::zeros({n * n}, l.dtype(), l.device());
  diagonal_of(identity, n).fill_(1.0);
  return add(l, mul(reshape(identity, {n, n}), sub(softplus(l), l)));
}

Tensor FullGaussian::factor() const {
  const std::int64_t n = dims();
  std::vector<double> mask(n * n, 0.0);
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t j = 0; j <= i; ++j) mask[i * n + j] = 1.0;
  return mul(solve_factor(), Tensor::from_vector(mask, {n, n}, l.device()).to(l.dtype()));
}

Tensor FullGaussian::nll(const Tensor& x) {
  check_input(x, mu);
  const std::int64_t n = dims();
  const Tensor factor_l = solve_factor();
  const Tensor z = triangular_solve(factor_l, transpose(sub(x, mu), 0, 1));  // (n, B)
  const Tensor diag = diagonal_of(reshape(factor_l, {n * n}), n);
  const double constant = 0.5 * static_cast<double>(n) * std::log(2 * std::numbers::pi);
  return add(add(mul(sum(square(z), {0}), 0.5), sum(log(diag))), constant);
}

Tensor FullGaussian::sample(std::int64_t count, Generator& generator) {
  NoGradGuard no_grad;
  const Tensor e = randn({count, dims()}, generator, mu.dtype(), mu.device());
  return add(matmul(e, transpose(factor(), 0, 1)), mu);
}

namespace {
const ModuleRegistration registration("full", [](config::ConfigNode& node, BuildContext&) {
  const DensityShape shape = read_density_shape(node);
  FullGaussianOptions o;
  o.dims = shape.dims;
  o.image = shape.image;
  const DensityInit init = read_density_init(node);
  o.scale_init = init.scale;
  o.mean_init = init.mean;
  o.max_dims = node.get_or<std::int64_t>("max_dims", kFullGaussianMaxDims);
  if (o.dims > o.max_dims)
    node.fail("dims", std::to_string(o.dims) + " exceeds max_dims = " + std::to_string(o.max_dims) +
                          " (a full covariance needs O(dims^2) memory; raise max_dims to insist)");
  return std::make_shared<FullGaussian>(o);
});
}  // namespace

}  // namespace laplex
