#include "layers/covariance/ppca.h"

#include <cmath>
#include <numbers>
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

Ppca::Ppca(const PpcaOptions& o, std::uint64_t seed) : options_(o) {
  if (o.dims < 1) throw UsageError("ppca: dims must be >= 1");
  if (o.rank < 1) throw UsageError("ppca: rank must be >= 1");
  if (!(o.scale_init > 0)) throw UsageError("ppca: scale_init must be > 0");
  if (o.image) set_image_shape(*o.image);
  Generator generator(seed);
  mu = Tensor::full({o.dims}, o.mean_init, o.dtype);
  w = randn({o.dims, o.rank}, generator, o.dtype);
  w = mul(w, 0.1 * o.scale_init / std::sqrt(static_cast<double>(o.rank)));
  psi = Tensor::full({o.dims}, inverse_softplus(o.scale_init * o.scale_init), o.dtype);
  register_parameter("mu", &mu);
  register_parameter("w", &w);
  register_parameter("psi", &psi);
}

Tensor Ppca::nll(const Tensor& x) {
  check_input(x, mu);
  const std::int64_t n = dims(), k = rank();
  const Tensor variance = softplus(psi);             // (n)
  const Tensor r = sub(x, mu);                       // (B, n)
  const Tensor wp = div(w, unsqueeze(variance, 1));  // Psi^{-1} W (n, k)
  // The identity and the diagonal come from strided views (every k + 1-th
  // element of the flattened matrix), made on the parameters' device: a
  // host-built tensor would be an upload, and a wait for the GPU, per call.
  Tensor identity = Tensor::zeros({k * k}, mu.dtype(), mu.device());
  slice(identity, 0, 0, k * k, k + 1).fill_(1.0);
  const Tensor capacitance = add(matmul(transpose(w, 0, 1), wp), reshape(identity, {k, k}));
  const Tensor l = cholesky(capacitance);                                // M = L L^T (k, k)
  const Tensor a = triangular_solve(l, transpose(matmul(r, wp), 0, 1));  // L^{-1} W^T Psi^{-1} r
  const Tensor quad = sub(sum(div(square(r), variance), {1}), sum(square(a), {0}));
  const Tensor log_diag = log(slice(reshape(l, {k * k}), 0, 0, k * k, k + 1));
  const Tensor logdet = add(mul(sum(log_diag), 2.0), sum(log(variance)));
  const double constant = 0.5 * static_cast<double>(n) * std::log(2 * std::numbers::pi);
  return add(mul(add(quad, logdet), 0.5), constant);
}

Tensor Ppca::sample(std::int64_t count, Generator& generator) {
  NoGradGuard no_grad;
  const Tensor e1 = randn({count, rank()}, generator, mu.dtype(), mu.device());
  const Tensor e2 = randn({count, dims()}, generator, mu.dtype(), mu.device());
  return add(add(matmul(e1, transpose(w, 0, 1)), mul(e2, sqrt(softplus(psi)))), mu);
}

namespace {
const ModuleRegistration registration("ppca", [](config::ConfigNode& node, BuildContext& context) {
  const DensityShape shape = read_density_shape(node);
  PpcaOptions o;
  o.dims = shape.dims;
  o.image = shape.image;
  o.rank = node.get<std::int64_t>("rank");
  const DensityInit init = read_density_init(node);
  o.scale_init = init.scale;
  o.mean_init = init.mean;
  if (o.rank < 1) node.fail("rank", "must be >= 1");
  if (o.rank > o.dims) node.fail("rank", "must be <= dims");
  return std::make_shared<Ppca>(o, derive_seed(context.seed, context.take_stream()));
});
}  // namespace

}  // namespace laplex
