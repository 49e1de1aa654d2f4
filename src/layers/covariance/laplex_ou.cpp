#include "layers/covariance/laplex_ou.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>
#include <vector>

#include "core/autograd/grad_mode.h"
#include "core/ops/elementwise.h"
#include "core/printable.h"
#include "core/ops/view.h"
#include "layers/covariance/density_config.h"
#include "layers/covariance/ou_anchors.h"
#include "layers/covariance/ou_nll_composed.h"
#include "layers/covariance/ou_order_search_sparse.h"
#include "layers/covariance/ou_nll_fused.h"
#include "layers/laplex/laplex_op.h"
#include "layers/registry.h"

namespace laplex {

LaplexOu::LaplexOu(const LaplexOuOptions& o, std::uint64_t seed) : options_(o) {
  if (o.dims < 1) throw UsageError("laplex_ou: dims must be >= 1");
  if (!(o.eps > 0 && o.eps < 1)) throw UsageError("laplex_ou: eps must be in (0, 1)");
  if (!(o.scale_init > 0)) throw UsageError("laplex_ou: scale_init must be > 0");
  if (!(o.correlation > 0 && o.correlation < 1))
    throw UsageError("laplex_ou: correlation must be in (0, 1)");
  if (o.anchors != "raster" && o.anchors != "serpentine" && o.anchors != "random")
    throw UsageError("laplex_ou: anchors must be raster, serpentine or random");
  if (o.kernel != "auto" && o.kernel != "fused" && o.kernel != "composed")
    throw UsageError("laplex_ou: kernel must be auto, fused or composed");
  if (o.image) set_image_shape(*o.image);
  const std::int64_t n = o.dims;
  Generator generator(seed);
  const auto anchors =
      ou_initial_anchors(n, o.image.value_or(ImageShape{1, 1, n}), o.anchors, generator);
  t = Tensor::from_vector(anchors, {n}).to(o.dtype);
  mu = Tensor::full({n}, o.mean_init, o.dtype);
  d = Tensor::full({n}, inverse_softplus(o.scale_init), o.dtype);
  rho = Tensor::full({1}, inverse_softplus(-std::log(o.correlation)), o.dtype);
  register_parameter("mu", &mu);
  register_parameter("t", &t);
  register_parameter("d", &d);
  register_parameter("rho", &rho);
}

void LaplexOu::on_state_loaded() {
  NoGradGuard no_grad;
  const std::vector<double> scales =
      softplus(d).to(Device::cpu()).to(DType::f64).to_vector<double>();
  for (std::size_t k = 0; k < scales.size(); ++k)
    if (!(scales[k] > 0))
      throw UsageError("state dict: laplex_ou scale softplus(d) is 0 at dimension " +
                       std::to_string(k) + " (d = " +
                       printable(d.to(Device::cpu()).to(DType::f64).to_vector<double>()[k]) +
                       "): every scale must be > 0");
  if (!(softplus(rho).to(Device::cpu()).item() > 0))
    throw UsageError("state dict: laplex_ou decay softplus(rho) is 0: it must be > 0");
}

Tensor LaplexOu::nll(const Tensor& x) {
  const bool fused =
      options_.kernel == "fused" || (options_.kernel == "auto" && t.device().is_cpu());
  return fused ? nll_fused(x) : nll_composed(x);
}

Tensor LaplexOu::nll_composed(const Tensor& x) {
  check_input(x, t);
  return ou_nll_composed(x, params(), options_.eps);
}

void LaplexOu::check_device(const Device& device) const {
  if (options_.kernel == "fused" && !device.is_cpu())
    throw UsageError("laplex_ou: kernel: fused runs on the CPU only, this run is on " + device.str() +
                     "; use kernel: auto or composed (or device: cpu)");
}

Tensor LaplexOu::nll_fused(const Tensor& x) {
  check_input(x, t);
  if (!t.device().is_cpu())
    throw UsageError("laplex_ou: kernel: fused runs on the CPU only; use auto or composed");
  const Tensor tc = t.detach().contiguous();
  visit_floating(tc.dtype(), "laplex_ou", [&](auto tag) {
    using T = decltype(tag);
    order_ = sort_anchors(tc.data<T>(), dims(), order_);
  });
  return ou_nll_fused(x, params(), options_.eps, order_);
}

OuOrderSearchResult LaplexOu::search_anchor_order(const Tensor& sample, std::int64_t max_sweeps) {
  if (sample.dim() != 2 || sample.size(1) != dims())
    throw UsageError("laplex_ou: the order search needs a sample of shape (rows, " +
                     std::to_string(dims()) + "), got " + shape_str(sample.shape()));
  NoGradGuard no_grad;
  const std::vector<double> values = t.to_vector<double>();
  std::vector<std::int64_t> start(values.size());
  std::iota(start.begin(), start.end(), 0);
  std::stable_sort(start.begin(), start.end(),
                   [&](std::int64_t a, std::int64_t b) { return values[a] < values[b]; });
  // Up to kOuOrderSearchMaxDims the exact n x n costs and all moves; above,
  // the candidate links of each dimension's most correlated ones.
  OuOrderSearchResult result =
      dims() <= kOuOrderSearchMaxDims
          ? ou_order_search(ou_pair_costs(sample, options_.eps), start, max_sweeps)
          : ou_order_search_sparse(ou_points(sample), start, OuSparseSearchOptions{}, options_.eps);
  std::vector<double> reordered(values.size());
  for (std::size_t k = 0; k < start.size(); ++k) reordered[result.order[k]] = values[start[k]];
  t.copy_(Tensor::from_vector(reordered, {dims()}).to(t.dtype()).to(t.device()));
  order_ = nullptr;
  return result;
}

namespace {

template <class T>
void ou_sample_rows(const T* mu, const T* t, const T* d_raw, double alpha, double eps,
                    const std::vector<std::int64_t>& perm, T* x, std::int64_t count,
                    std::int64_t n) {
  // x holds N(0, 1) draws on entry, in index order; the scan reads e at the
  // sorted position's index and overwrites it with the sample there.
#pragma omp parallel for if (count > 1)
  for (std::int64_t b = 0; b < count; ++b) {
    T* row = x + b * n;
    double y = 0;
    for (std::int64_t k = 0; k < n; ++k) {
      const std::int64_t i = perm[k];
      double r = 0, q = 1;
      if (k > 0) {
        const double a = alpha * (static_cast<double>(t[i]) - t[perm[k - 1]]);
        r = std::exp(-a);
        q = std::clamp(-std::expm1(-2 * a), eps, 1.0);
      }
      y = r * y + std::sqrt(q) * row[i];
      const double raw = d_raw[i];
      const double scale = std::max(raw, 0.0) + std::log1p(std::exp(-std::fabs(raw)));
      row[i] = static_cast<T>(mu[i] + scale * y);
    }
  }
}

}  // namespace

Tensor LaplexOu::sample(std::int64_t count, Generator& generator) {
  if (count < 0) throw Error("laplex_ou.sample: count must be >= 0");
  NoGradGuard no_grad;
  const Device device = t.device();
  const Tensor mu_c = mu.to(Device::cpu()).contiguous(), t_c = t.to(Device::cpu()).contiguous(),
               d_c = d.to(Device::cpu()).contiguous();
  const double alpha = softplus(rho).item();
  Tensor x = randn({count, dims()}, generator, t.dtype());
  visit_floating(t.dtype(), "laplex_ou.sample", [&](auto tag) {
    using T = decltype(tag);
    const auto perm = sort_anchors(t_c.data<T>(), dims(), nullptr);
    ou_sample_rows(mu_c.data<T>(), t_c.data<T>(), d_c.data<T>(), alpha, options_.eps, *perm,
                   x.data<T>(), count, dims());
  });
  return x.to(device);
}

Tensor LaplexOu::covariance_row(std::int64_t p) {
  if (p < 0 || p >= dims()) throw Error("laplex_ou.covariance_row: index out of range");
  const std::int64_t n = dims();
  Tensor e = Tensor::zeros({1, n}, t.dtype(), t.device());
  slice(e, 1, p, p + 1).fill_(1.0);
  LaplexParams lp;
  lp.t = reshape(t, {1, n});
  lp.s = lp.t;
  lp.u = reshape(softplus(d), {1, n});
  lp.v = lp.u;
  lp.rho = rho;
  return reshape(laplex_apply(e, lp), {n});
}

namespace {
const ModuleRegistration registration("laplex_ou", [](config::ConfigNode& node,
                                                      BuildContext& context) {
  const DensityShape shape = read_density_shape(node);
  LaplexOuOptions o;
  o.dims = shape.dims;
  o.image = shape.image;
  o.anchors = node.get_choice("anchors", {"raster", "serpentine", "random"}, "raster");
  o.eps = node.get_or<double>("eps", kOuDefaultEps);
  const DensityInit init = read_density_init(node);
  o.scale_init = init.scale;
  o.mean_init = init.mean;
  o.correlation = node.get_or<double>("correlation", 0.9);
  o.kernel = node.get_choice("kernel", {"auto", "fused", "composed"}, "auto");
  o.order_search_images = node.get_or<std::int64_t>("order_search_images", 0);
  if (o.order_search_images < 0) node.fail("order_search_images", "must be >= 0 (0: no search)");
  if (o.dims > 0 && o.order_search_images > kOuOrderSearchMaxValues / o.dims)
    node.fail("order_search_images", "the search reads order_search_images x dims values, at most " +
                                         std::to_string(kOuOrderSearchMaxValues) + " (at most " +
                                         std::to_string(kOuOrderSearchMaxValues / o.dims) +
                                         " images of dims " + std::to_string(o.dims) + ")");
  if (!(o.eps > 0 && o.eps < 1)) node.fail("eps", "must be in (0, 1)");
  if (!(o.correlation > 0 && o.correlation < 1)) node.fail("correlation", "must be in (0, 1)");
  return std::make_shared<LaplexOu>(o, derive_seed(context.seed, context.take_stream()));
});
}  // namespace

}  // namespace laplex
