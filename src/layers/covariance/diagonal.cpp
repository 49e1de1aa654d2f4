#include "layers/covariance/diagonal.h"

#include <cmath>
#include <numbers>

#include "core/autograd/grad_mode.h"
#include "core/ops/elementwise.h"
#include "core/ops/reduce.h"
#include "layers/covariance/density_config.h"
#include "layers/registry.h"

namespace laplex {

DiagonalGaussian::DiagonalGaussian(const DiagonalGaussianOptions& o) : options_(o) {
  if (o.dims < 1) throw UsageError("diagonal: dims must be >= 1");
  if (!(o.scale_init > 0)) throw UsageError("diagonal: scale_init must be > 0");
  if (o.image) set_image_shape(*o.image);
  mu = Tensor::full({o.dims}, o.mean_init, o.dtype);
  scale = Tensor::full({o.dims}, inverse_softplus(o.scale_init), o.dtype);
  register_parameter("mu", &mu);
  register_parameter("scale", &scale);
}

Tensor DiagonalGaussian::nll(const Tensor& x) {
  check_input(x, mu);
  const Tensor s = softplus(scale);
  const double constant = 0.5 * static_cast<double>(dims()) * std::log(2 * std::numbers::pi);
  const Tensor quad = sum(square(div(sub(x, mu), s)), {1});
  return add(mul(quad, 0.5), add(sum(log(s)), constant));
}

Tensor DiagonalGaussian::sample(std::int64_t count, Generator& generator) {
  NoGradGuard no_grad;
  const Tensor e = randn({count, dims()}, generator, mu.dtype(), mu.device());
  return add(mul(e, softplus(scale)), mu);
}

namespace {
const ModuleRegistration registration("diagonal", [](config::ConfigNode& node, BuildContext&) {
  const DensityShape shape = read_density_shape(node);
  DiagonalGaussianOptions o;
  o.dims = shape.dims;
  o.image = shape.image;
  const DensityInit init = read_density_init(node);
  o.scale_init = init.scale;
  o.mean_init = init.mean;
  return std::make_shared<DiagonalGaussian>(o);
});
}  // namespace

}  // namespace laplex
