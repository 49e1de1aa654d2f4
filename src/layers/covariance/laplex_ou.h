#pragma once
// LAPLEX-OU density: x ~ N(mu, D K D), K[i,j] = exp(-alpha |t_i - t_j|),
// d = softplus(d_raw), alpha = softplus(rho) (laplex-math.md section 4).
// The exact NLL costs O(n log n) (a sort, then a tridiagonal precision) and
// O(n) memory; see ou_nll_composed.h and ou_nll_fused.h.
//
// YAML: {type: laplex_ou, dims: n, image: [C, H, W] (optional),
//        anchors: raster | serpentine | random, eps: 1e-6, scale_init: 1.0,
//        mean_init: 0.0, correlation: 0.9, kernel: auto | fused | composed,
//        order_search_images: 0}
// Parameters (float32): mu (n), t (n), d (n, raw), rho (1).
//
// Initialisation:
// - t: anchors at unit spacing from the pixel grid in the chosen order
//   (ou_anchors.h).
// - rho: alpha = -log(correlation), so anchors one unit apart (horizontal
//   neighbours of one channel in raster order, or consecutive values without
//   an image) start with correlation `correlation`.
// - d: softplus(d) = scale_init (the marginal standard deviation), mu = mean_init.
// - order_search_images: K > 0 asks the trainer to reorder the anchors
//   before the first step by the global search of ou_order_search.h on K
//   training images (exact moves over all pairs up to kOuOrderSearchMaxDims,
//   above that ou_order_search_sparse.h's over each dimension's most
//   correlated ones); 0 (the default) leaves the initial order to gradient
//   descent alone. K x dims <= kOuOrderSearchMaxValues.
// Kernel: `auto` runs the fused CPU op on the CPU and the composed engine ops
// on CUDA; `fused` demands the CPU op, `composed` forces the reference.
//
// Memory of nll + backward with the fused op, float32, bytes per dimension:
// parameters 16 and the cached permutation 8 (resident), then per step the
// three n-gradients 12 plus 4 transient (the engine's AccumulateGrad copies
// each incoming gradient once): a step peaks 16 B/dim above what is resident
// (measured: laplex-bench covariance), plus 4 B per row of x if x requires a
// gradient, plus 16 while a re-sort runs (anchor_order.h).
#include <string>

#include "layers/covariance/anchor_order.h"
#include "layers/covariance/density_model.h"
#include "layers/covariance/ou_order_search.h"
#include "layers/covariance/ou_params.h"

namespace laplex {

struct LaplexOuOptions {
  std::int64_t dims = 0;
  std::optional<ImageShape> image;
  std::string anchors = "raster";  // raster | serpentine | random
  double eps = kOuDefaultEps;
  double scale_init = 1.0;
  double mean_init = 0.0;
  double correlation = 0.9;
  std::string kernel = "auto";  // auto | fused | composed
  std::int64_t order_search_images = 0;
  DType dtype = DType::f32;     // float64 for oracles and tests
};

class LaplexOu : public DensityModel {
 public:
  LaplexOu(const LaplexOuOptions& options, std::uint64_t seed);
  std::string type_name() const override { return "laplex_ou"; }
  std::int64_t dims() const override { return options_.dims; }
  const LaplexOuOptions& options() const { return options_; }

  Tensor nll(const Tensor& x) override;
  // Refuses loaded scales or a decay that softplus takes to 0 in the
  // parameters' precision (raw values below about -104 in float32): the
  // covariance is then singular and every NLL NaN, which a damaged
  // checkpoint, not training, produces.
  void on_state_loaded() override;
  // Throws UsageError when nll() could not run with the parameters on
  // `device` (kernel: fused is CPU only): a trainer asks before its run
  // starts rather than fail at the first step.
  void check_device(const Device& device) const;
  // The composed reference (any device) and the fused CPU op, whatever `kernel` says.
  Tensor nll_composed(const Tensor& x);
  Tensor nll_fused(const Tensor& x);
  // y_1 = e_1, y_k = r_k y_{k-1} + sqrt(q_k) e_k in sorted order, x = mu + D y:
  // exactly the density nll() scores (the eps clamp included). Runs on the
  // CPU (a sequential scan per row); CUDA parameters take a host round trip.
  Tensor sample(std::int64_t count, Generator& generator) override;
  // Sigma e_p (n) = d * K (d_p e_p) with the fast LAPLEX operator
  // (laplex_apply with t = s, u = v = d, unphased, one head): O(n log n), for
  // pictures of what a pixel correlates with. Uses K itself, which differs
  // from the clamped chain only where 1 - r_k^2 < eps.
  Tensor covariance_row(std::int64_t p);
  OuParams params() const { return {mu, t, d, rho}; }
  // Reorders the anchors by the path search of ou_order_search.h (dims <=
  // kOuOrderSearchMaxDims, else ou_order_search_sparse.h) on a sample
  // (rows, n) of data, starting from their current order: the sorted values
  // of t are kept and handed out in the order found, so the gaps (and the
  // couplings they give) stay those of the current model. No gradient.
  OuOrderSearchResult search_anchor_order(const Tensor& sample, std::int64_t max_sweeps);

  Tensor mu;   // (n)
  Tensor t;    // (n)
  Tensor d;    // (n) raw; the scale is softplus(d)
  Tensor rho;  // (1)

 private:
  LaplexOuOptions options_;
  AnchorPermutation order_;  // the fused op's sort cache
};

}  // namespace laplex
