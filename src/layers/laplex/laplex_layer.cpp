#include "layers/laplex/laplex_layer.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "core/autograd/grad_mode.h"
#include "core/ops/elementwise.h"
#include "core/ops/sort.h"
#include "core/ops/view.h"
#include "core/random.h"
#include "layers/registry.h"

namespace laplex {

namespace {

// softplus^-1(alpha), stable for small and large alpha.
double inverse_softplus(double alpha) { return alpha > 30 ? alpha : std::log(std::expm1(alpha)); }

// E[h, i] = sum_j kappa_h(t_i - s_j)^2 for every head: (H, out).
Tensor row_energies(const LaplexLayer& layer) {
  NoGradGuard no_grad;
  const auto& o = layer.options();
  const Tensor ones = Tensor::ones({1, o.in});
  const Tensor alpha = softplus(layer.rho);
  Tensor energy = Tensor::empty({o.heads, o.out});
  for (std::int64_t h = 0; h < o.heads; ++h) {
    LaplexParams p;
    p.t = slice(layer.t, 0, h, h + 1).contiguous();
    p.s = slice(layer.s, 0, h, h + 1).contiguous();
    // exp(-2 alpha |d|): rho for twice the decay.
    const double a = alpha.to_vector<double>()[h];
    p.rho = Tensor::full({1}, inverse_softplus(2 * a));
    Tensor e = laplex_apply(ones, p);
    if (o.phased) {
      // cos^2(w d + f) = (1 + cos(2 w d + 2 f)) / 2
      p.omega = Tensor::full({1}, 2 * layer.omega.to_vector<double>()[h]);
      p.phi = Tensor::full({1}, 2 * layer.phi.to_vector<double>()[h]);
      e = mul(add(e, laplex_apply(ones, p, {.phased = true, .cpu_scratch = nullptr})), 0.5);
    }
    slice(energy, 0, h, h + 1).copy_(e);
  }
  return energy;
}

}  // namespace

LaplexLayer::LaplexLayer(const LaplexLayerOptions& o, std::uint64_t seed) : options_(o) {
  if (o.in < 1 || o.out < 1 || o.heads < 1)
    throw UsageError("laplex: in, out and heads must be >= 1");
  if (!(o.neighbourhood > 0)) throw UsageError("laplex: neighbourhood must be > 0");
  if (!(o.input_gain_std > 0)) throw UsageError("laplex: input_gain_std must be > 0");
  Generator generator(seed);
  t = Tensor::empty({o.heads, o.out});
  s = Tensor::empty({o.heads, o.in});
  if (o.anchors == "random") {
    uniform_(t, generator);
    uniform_(s, generator);
  } else {
    float* pt = t.data<float>();
    float* ps = s.data<float>();
    std::vector<std::int64_t> slot(o.in);
    for (std::int64_t h = 0; h < o.heads; ++h) {
      std::iota(slot.begin(), slot.end(), 0);
      if (o.anchors == "shuffled") {
        // The ranks of uniform draws: a random permutation per head.
        const auto r = argsort(rand({o.in}, generator, DType::f64)).to_vector<std::int64_t>();
        for (std::int64_t k = 0; k < o.in; ++k) slot[r[k]] = k;
      }
      for (std::int64_t i = 0; i < o.out; ++i) pt[h * o.out + i] = (i + 0.5f) / o.out;
      for (std::int64_t j = 0; j < o.in; ++j) ps[h * o.in + j] = (slot[j] + 0.5f) / o.in;
    }
  }
  std::vector<float> rho_values(o.heads), omega_values(o.heads, 0.0f);
  for (std::int64_t h = 0; h < o.heads; ++h) {
    // Floored where 2^h outgrows every reach: past about a thousand heads
    // the quotient underflowed to 0 and rho started at -inf. At 1e-30 the
    // kernel is flat across any anchors a float32 holds.
    const double alpha =
        std::max(static_cast<double>(o.in) / (o.neighbourhood * std::pow(2.0, h)), 1e-30);
    rho_values[h] = static_cast<float>(inverse_softplus(alpha));
    omega_values[h] = static_cast<float>(alpha);
  }
  rho = Tensor::from_vector(rho_values, {o.heads});
  if (o.phased) {
    Tensor r = rand({o.heads}, generator);  // omega_h = alpha_h * U(-1, 1)
    const auto unit = r.to_vector<float>();
    for (std::int64_t h = 0; h < o.heads; ++h) omega_values[h] *= 2 * unit[h] - 1;
    omega = Tensor::from_vector(omega_values, {o.heads});
    phi = Tensor::zeros({o.heads});
  }
  if (o.gains) {
    v = mul(randn({o.heads, o.in}, generator), o.input_gain_std);
    const Tensor energy = row_energies(*this);
    const Tensor signs = rand({o.heads, o.out}, generator);
    u = Tensor::empty({o.heads, o.out});
    const auto e = energy.to_vector<float>();
    const auto sg = signs.to_vector<float>();
    float* pu = u.data<float>();
    for (std::int64_t k = 0; k < u.numel(); ++k)
      pu[k] = (sg[k] < 0.5f ? -1.0f : 1.0f) /
              (static_cast<float>(o.input_gain_std) *
               std::sqrt(static_cast<float>(o.heads) * std::max(e[k], 1e-12f)));
  }
  if (o.bias) bias = Tensor::zeros({o.out});

  register_parameter("t", &t);
  register_parameter("s", &s);
  if (o.gains) {
    register_parameter("u", &u);
    register_parameter("v", &v);
  }
  if (o.learn_decay)
    register_parameter("rho", &rho);
  else
    register_buffer("rho", &rho);
  if (o.phased) {
    register_parameter("omega", &omega);
    register_parameter("phi", &phi);
  }
  if (o.bias) register_parameter("bias", &bias);
}

LaplexParams LaplexLayer::params() const { return {t, s, u, v, rho, omega, phi, bias}; }

Tensor LaplexLayer::forward(const Tensor& x) {
  if (x.dim() == 2) return laplex_apply(x, params(), op_options());
  // (..., in): flatten the leading dims into the batch.
  Shape out_shape = x.shape();
  out_shape.back() = options_.out;
  return reshape(laplex_apply(reshape(x, {-1, options_.in}), params(), op_options()),
                 out_shape);
}

Tensor LaplexLayer::to_dense() const {
  return laplex_to_dense(params(), op_options());
}

namespace {
const ModuleRegistration registration("laplex", [](config::ConfigNode& node, BuildContext& context) {
  LaplexLayerOptions o;
  o.in = node.get<std::int64_t>("in");
  o.out = node.get<std::int64_t>("out");
  o.heads = node.get_or<std::int64_t>("heads", 1);
  o.phased = node.get_or<bool>("phased", false);
  o.gains = node.get_or<bool>("gains", true);
  o.bias = node.get_or<bool>("bias", true);
  o.learn_decay = node.get_or<bool>("learn_decay", true);
  o.neighbourhood = node.get_or<double>("neighbourhood", 8.0);
  o.anchors = node.get_choice("anchors", {"grid", "shuffled", "random"}, "grid");
  o.input_gain_std = node.get_or<double>("input_gain_std", 1.0);
  // Event codes keep an anchor's index in 31 bits; heads x (in + out)
  // anchors must fit the 63 bits of a size.
  constexpr std::int64_t kMaxSide = (std::int64_t{1} << 31) - 1;
  if (o.in < 1 || o.in > kMaxSide) node.fail("in", "must be in [1, 2^31 - 1]");
  if (o.out < 1 || o.out > kMaxSide) node.fail("out", "must be in [1, 2^31 - 1]");
  if (o.heads < 1 || o.heads > (std::int64_t{1} << 20)) node.fail("heads", "must be in [1, 2^20]");
  // The decays in / neighbourhood and the gains 1 / input_gain_std are
  // float32 parameters.
  if (!(o.neighbourhood >= 1e-30 * static_cast<double>(o.in) && o.neighbourhood <= 1e30))
    node.fail("neighbourhood", "must be in [1e-30 in, 1e30]");
  if (!(o.input_gain_std >= 1e-30 && o.input_gain_std <= 1e30))
    node.fail("input_gain_std", "must be in [1e-30, 1e30]");
  return std::make_shared<LaplexLayer>(o, derive_seed(context.seed, context.take_stream()));
});
}  // namespace

}  // namespace laplex
