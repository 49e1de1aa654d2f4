// LAPLEX-OU density against the dense float64 Gaussian oracle: NLL and every
// gradient (both kernels), finite differences, fused == composed, ties,
// sampling statistics, covariance rows, anchors and YAML.
#include "layers/covariance/laplex_ou.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

#include "core/ops/elementwise.h"
#include "core/ops/reduce.h"
#include "core/ops/sort.h"
#include "helpers/gaussian_oracle.h"
#include "helpers/gradcheck.h"
#include "helpers/vector_compare.h"
#include "layers/covariance/anchor_order.h"
#include "layers/covariance/ou_nll_composed.h"
#include "layers/covariance/ou_nll_fused.h"
#include "layers/registry.h"

namespace laplex::testing {
namespace {

double softplus_d(double x) { return std::max(x, 0.0) + std::log1p(std::exp(-std::fabs(x))); }
double sigmoid_d(double x) { return 1 / (1 + std::exp(-x)); }

// Distinct anchors in a shuffled order: gaps in [0.05, 0.5).
std::vector<double> distinct_anchors(std::int64_t n, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> gap(0.05, 0.5);
  std::vector<double> t(n);
  double p = -0.1 * n;
  for (auto& v : t) v = (p += gap(rng));
  std::shuffle(t.begin(), t.end(), rng);
  return t;
}

std::vector<double> uniform(std::int64_t n, std::uint64_t seed, double lo, double hi) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(lo, hi);
  std::vector<double> v(n);
  for (auto& x : v) x = u(rng);
  return v;
}

std::shared_ptr<LaplexOu> make_model(std::int64_t n, const std::string& kernel,
                                     const std::vector<double>& t, std::uint64_t seed,
                                     DType dtype = DType::f64) {
  LaplexOuOptions o;
  o.dims = n;
  o.kernel = kernel;
  o.dtype = dtype;
  auto m = std::make_shared<LaplexOu>(o, 1);
  m->t.copy_(Tensor::from_vector(t, {n}).to(dtype));
  m->mu.copy_(Tensor::from_vector(uniform(n, seed + 1, -0.5, 0.5), {n}).to(dtype));
  m->d.copy_(Tensor::from_vector(uniform(n, seed + 2, -1.0, 1.5), {n}).to(dtype));
  m->rho.copy_(Tensor::from_vector(std::vector<double>{0.3}, {1}).to(dtype));
  return m;
}

// Sigma = D K D from the model's parameters, in float64.
std::vector<double> dense_sigma(const LaplexOu& m) {
  const auto t = m.t.to_vector<double>(), raw = m.d.to_vector<double>();
  const double alpha = softplus_d(m.rho.item());
  const auto n = static_cast<std::int64_t>(t.size());
  std::vector<double> s(n * n);
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t j = 0; j < n; ++j)
      s[i * n + j] =
          softplus_d(raw[i]) * softplus_d(raw[j]) * std::exp(-alpha * std::fabs(t[i] - t[j]));
  return s;
}

struct OuGradients {
  std::vector<double> nll, dx, dmu, dt, draw, drho;
};

// The oracle's gradients chained through Sigma_ij = d_i d_j exp(-alpha |t_i - t_j|).
OuGradients oracle(const LaplexOu& m, const std::vector<double>& x, const std::vector<double>& w) {
  const auto t = m.t.to_vector<double>(), raw = m.d.to_vector<double>();
  const auto n = static_cast<std::int64_t>(t.size());
  const double alpha = softplus_d(m.rho.item());
  const auto sigma = dense_sigma(m);
  const auto g = dense_gaussian(sigma, m.mu.to_vector<double>(), x, w);
  OuGradients o{g.nll, g.dx, g.dmu, std::vector<double>(n), std::vector<double>(n), {0.0}};
  double dalpha = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    double dd = 0, dt = 0;
    for (std::int64_t j = 0; j < n; ++j) {
      const double gs = g.dsigma[i * n + j] * sigma[i * n + j];
      dd += 2 * gs / softplus_d(raw[i]);
      const double diff = t[i] - t[j];
      dt += 2 * gs * -alpha * (diff > 0 ? 1.0 : (diff < 0 ? -1.0 : 0.0));
      dalpha -= gs * std::fabs(diff);
    }
    o.draw[i] = dd * sigmoid_d(raw[i]);
    o.dt[i] = dt;
  }
  o.drho[0] = dalpha * sigmoid_d(m.rho.item());
  return o;
}

OuGradients run(LaplexOu& m, const Tensor& x, const std::vector<double>& w) {
  for (Tensor p : m.parameters()) p.zero_grad();
  Tensor xg = x.detach().clone().set_requires_grad(true);
  const Tensor nll = m.nll(xg);
  sum(mul(nll, Tensor::from_vector(w, {static_cast<std::int64_t>(w.size())}).to(x.dtype())))
      .backward();
  // n = 1 leaves t and rho unused (no gaps) by the composed ops: zero gradient.
  auto grad = [](const Tensor& p) {
    return p.grad().defined() ? p.grad().to_vector<double>() : std::vector<double>(p.numel(), 0.0);
  };
  return {nll.to_vector<double>(), grad(xg), grad(m.mu), grad(m.t), grad(m.d), grad(m.rho)};
}

void expect_close(const OuGradients& got, const OuGradients& want, double rtol) {
  EXPECT_TRUE(vectors_close("nll", got.nll, want.nll, rtol));
  EXPECT_TRUE(vectors_close("dx", got.dx, want.dx, rtol));
  EXPECT_TRUE(vectors_close("dmu", got.dmu, want.dmu, rtol));
  EXPECT_TRUE(vectors_close("dt", got.dt, want.dt, rtol));
  EXPECT_TRUE(vectors_close("dd", got.draw, want.draw, rtol));
  EXPECT_TRUE(vectors_close("drho", got.drho, want.drho, rtol));
}

TEST(LaplexOu, NllAndEveryGradientMatchDenseGaussian) {
  for (const std::int64_t n : {1, 2, 37, 200}) {
    for (const std::string kernel : {"fused", "composed"}) {
      SCOPED_TRACE("n = " + std::to_string(n) + ", " + kernel);
      auto m = make_model(n, kernel, distinct_anchors(n, n), n);
      const std::int64_t batch = 3;
      const auto x = uniform(batch * n, 9, -1.5, 1.5);
      const std::vector<double> w{0.7, -1.3, 2.1};
      const OuGradients got = run(*m, Tensor::from_vector(x, {batch, n}), w);
      expect_close(got, oracle(*m, x, w), 1e-6);
    }
  }
}

TEST(LaplexOu, GradientsMatchFiniteDifferences) {
  const std::int64_t n = 11;
  const auto t = distinct_anchors(n, 3);
  for (const bool fused : {true, false}) {
    SCOPED_TRACE(fused ? "fused" : "composed");
    auto f = [fused](const std::vector<Tensor>& in) {
      const OuParams p{in[1], in[2], in[3], in[4]};
      return fused ? ou_nll_fused(in[0], p) : ou_nll_composed(in[0], p);
    };
    EXPECT_TRUE(
        gradcheck(f, {random_tensor({4, n}, 1), random_tensor({n}, 2, -0.3, 0.3),
                      Tensor::from_vector(t, {n}), random_tensor({n}, 4), random_tensor({1}, 5)}));
  }
}

// Many chunks of the fused kernel, random anchor order and exact ties: both
// kernels must agree in float64 to rounding and in float32 to its precision.
TEST(LaplexOu, FusedKernelEqualsComposedOps) {
  const std::int64_t n = 5000, batch = 5;
  auto t = uniform(n, 21, -200.0, 200.0);
  for (std::int64_t i = 0; i < n; i += 97) t[i] = t[(i * 31) % n];  // ties
  const auto x = uniform(batch * n, 22, -2.0, 2.0);
  const std::vector<double> w{1.0, -0.5, 0.25, 2.0, 0.1};
  for (const DType dtype : {DType::f64, DType::f32}) {
    SCOPED_TRACE(dtype_name(dtype));
    auto fused = make_model(n, "fused", t, 5, dtype);
    auto composed = make_model(n, "composed", t, 5, dtype);
    const Tensor xt = Tensor::from_vector(x, {batch, n}).to(dtype);
    expect_close(run(*fused, xt, w), run(*composed, xt, w), dtype == DType::f64 ? 1e-10 : 2e-5);
  }
}

// Anchors in index order over several chunks: the fused kernel reads rows as
// slices there (its contiguous path), and a model whose anchors move between
// calls must re-sort (its cached permutation no longer sorts t).
TEST(LaplexOu, FusedKernelContiguousPathAndStaleCache) {
  const std::int64_t n = 6000, batch = 3;
  std::vector<double> t(n);
  for (std::int64_t i = 0; i < n; ++i) t[i] = 0.5 * static_cast<double>(i);
  const auto x = uniform(batch * n, 4, -1.0, 1.0);
  const std::vector<double> w{1.0, 2.0, -1.0};
  auto fused = make_model(n, "fused", t, 6);
  auto composed = make_model(n, "composed", t, 6);
  const Tensor xt = Tensor::from_vector(x, {batch, n});
  expect_close(run(*fused, xt, w), run(*composed, xt, w), 1e-10);
  std::reverse(t.begin(), t.end());
  for (auto* m : {fused.get(), composed.get()}) m->t.copy_(Tensor::from_vector(t, {n}));
  expect_close(run(*fused, xt, w), run(*composed, xt, w), 1e-10);
}

// K depends on alpha (t_i - t_j) only, so scaling t by c and alpha by 1/c
// changes nothing: sum_i t_i dt_i = alpha dalpha.
TEST(LaplexOu, AnchorScaleInvariance) {
  const std::int64_t n = 300;
  auto m = make_model(n, "fused", distinct_anchors(n, 12), 3);
  const OuGradients g = run(*m, Tensor::from_vector(uniform(2 * n, 5, -1, 1), {2, n}), {1.0, 0.5});
  const auto t = m->t.to_vector<double>();
  double lhs = 0;
  for (std::int64_t i = 0; i < n; ++i) lhs += t[i] * g.dt[i];
  const double rho = m->rho.item();
  const double alpha_dalpha = softplus_d(rho) * g.drho[0] / sigmoid_d(rho);
  EXPECT_NEAR(lhs, alpha_dalpha, 1e-9 * (std::fabs(lhs) + 1));
}

TEST(LaplexOu, TiedAnchorsGiveFiniteValues) {
  const std::int64_t n = 64;
  std::vector<double> t(n);
  for (std::int64_t i = 0; i < n; ++i) t[i] = static_cast<double>(i % 4);  // 16-fold ties
  for (const DType dtype : {DType::f32, DType::f64})
    for (const std::string kernel : {"fused", "composed"}) {
      auto m = make_model(n, kernel, t, 8, dtype);
      const OuGradients g =
          run(*m, Tensor::from_vector(uniform(2 * n, 3, -1, 1), {2, n}).to(dtype), {1.0, 1.0});
      for (const auto* v : {&g.nll, &g.dx, &g.dmu, &g.dt, &g.draw, &g.drho})
        for (double e : *v) ASSERT_TRUE(std::isfinite(e)) << kernel << " " << dtype_name(dtype);
      // Tied gaps are clamped at eps = 1e-6: log q = log(1e-6) per tie.
      EXPECT_GT(g.nll[0], 0.5 * 48 * std::log(1e6) - 200);
    }
}

TEST(LaplexOu, SamplesHaveTheModelCovariance) {
  const std::int64_t n = 6, count = 200000;
  auto m = make_model(n, "fused", distinct_anchors(n, 4), 6);
  Generator g(17);
  const auto s = m->sample(count, g).to_vector<double>();
  const auto sigma = dense_sigma(*m);
  const auto mu = m->mu.to_vector<double>();
  for (std::int64_t i = 0; i < n; ++i) {
    double mean = 0;
    for (std::int64_t k = 0; k < count; ++k) mean += s[k * n + i];
    mean /= count;
    EXPECT_NEAR(mean, mu[i], 5 * std::sqrt(sigma[i * n + i] / count));
    for (std::int64_t j = 0; j < n; ++j) {
      double c = 0;
      for (std::int64_t k = 0; k < count; ++k) c += (s[k * n + i] - mu[i]) * (s[k * n + j] - mu[j]);
      c /= count;
      const double scale = std::sqrt(sigma[i * n + i] * sigma[j * n + j]);
      EXPECT_NEAR(c, sigma[i * n + j], 0.02 * scale) << i << "," << j;
    }
  }
}

TEST(LaplexOu, CovarianceRowIsTheDenseColumn) {
  const std::int64_t n = 40;
  for (const DType dtype : {DType::f64, DType::f32}) {
    auto m = make_model(n, "auto", distinct_anchors(n, 7), 2, dtype);
    const auto sigma = dense_sigma(*m);
    for (const std::int64_t p : {0, 13, 39}) {
      std::vector<double> column(n);
      for (std::int64_t i = 0; i < n; ++i) column[i] = sigma[i * n + p];
      EXPECT_TRUE(vectors_close("row", m->covariance_row(p).to_vector<double>(), column,
                                dtype == DType::f64 ? 1e-10 : 1e-5));
    }
  }
}

TEST(LaplexOu, AnchorSortMatchesArgsortAndReusesTheCache) {
  std::vector<double> t = uniform(3000, 5, -10, 10);
  for (int i = 0; i < 3000; i += 7) t[i] = t[i / 2];  // ties keep index order
  t[3] = -0.0;
  t[4] = 0.0;
  t[5] = -0.0;
  for (const DType dtype : {DType::f64, DType::f32}) {
    const Tensor tt = Tensor::from_vector(t, {3000}).to(dtype);
    const auto want = argsort(tt).to_vector<std::int64_t>();
    AnchorPermutation p = visit_floating(dtype, "test", [&](auto tag) {
      using T = decltype(tag);
      return sort_anchors(tt.data<T>(), 3000, nullptr);
    });
    EXPECT_EQ(*p, want);
    AnchorPermutation again = visit_floating(dtype, "test", [&](auto tag) {
      using T = decltype(tag);
      return sort_anchors(tt.data<T>(), 3000, p);
    });
    EXPECT_EQ(again.get(), p.get());  // still sorted: no new sort
  }
  // A moved anchor invalidates the cache.
  std::vector<float> f{0.f, 1.f, 2.f};
  auto p = sort_anchors(f.data(), 3, nullptr);
  f[0] = 5.f;
  auto q = sort_anchors(f.data(), 3, p);
  EXPECT_NE(q.get(), p.get());
  EXPECT_EQ(*q, (std::vector<std::int64_t>{1, 2, 0}));
}

std::shared_ptr<Module> build(const std::string& yaml) {
  BuildContext context{3};
  return build_module(config::ConfigNode(YAML::Load(yaml), "test.yaml", "model"), context);
}

TEST(LaplexOu, YamlInitialisationFollowsThePixelGrid) {
  auto m = std::dynamic_pointer_cast<LaplexOu>(
      build("{type: laplex_ou, dims: 12, image: [2, 2, 3], anchors: serpentine, "
            "correlation: 0.8, scale_init: 0.5, mean_init: 0.25}"));
  ASSERT_TRUE(m);
  EXPECT_EQ(m->dims(), 12);
  ASSERT_TRUE(m->image_shape());
  EXPECT_EQ(m->parameter_count(), 3 * 12 + 1);
  std::vector<std::string> names;
  for (const auto& [name, p] : m->named_parameters()) {
    names.push_back(name);
    EXPECT_EQ(p.dtype(), DType::f32);
  }
  EXPECT_EQ(names, (std::vector<std::string>{"mu", "t", "d", "rho"}));
  // Serpentine ranks (c, h, w): plane by plane, row 0 left to right, row 1
  // right to left; t = rank - 5.5.
  const auto t = m->t.to_vector<double>();
  const std::vector<double> rank{0, 1, 2, 5, 4, 3, 6, 7, 8, 11, 10, 9};
  for (int i = 0; i < 12; ++i) EXPECT_EQ(t[i], rank[i] - 5.5) << i;
  EXPECT_NEAR(std::exp(-softplus_d(m->rho.item())), 0.8, 1e-6);
  EXPECT_NEAR(softplus_d(m->d.to_vector<double>()[0]), 0.5, 1e-6);
  EXPECT_NEAR(m->mu.to_vector<double>()[0], 0.25, 1e-7);
  // Raster: ranks in index (c, h, w) order; random: a permutation of the ranks.
  auto r =
      std::dynamic_pointer_cast<LaplexOu>(build("{type: laplex_ou, dims: 12, image: [2, 2, 3]}"));
  for (int i = 0; i < 12; ++i) EXPECT_EQ(r->t.to_vector<double>()[i], i - 5.5) << i;
  auto q =
      std::dynamic_pointer_cast<LaplexOu>(build("{type: laplex_ou, dims: 50, anchors: random}"));
  auto sorted = q->t.to_vector<double>();
  std::sort(sorted.begin(), sorted.end());
  for (int i = 0; i < 50; ++i) EXPECT_EQ(sorted[i], i - 24.5);
  EXPECT_NE(q->t.to_vector<double>()[0], -24.5);
}

TEST(LaplexOu, YamlErrorsNameTheKey) {
  auto message = [](const std::string& yaml) -> std::string {
    try {
      build(yaml);
    } catch (const UsageError& e) {
      return e.what();
    }
    return "no error";
  };
  EXPECT_NE(message("{type: laplex_ou}").find("dims"), std::string::npos);
  EXPECT_NE(message("{type: laplex_ou, dims: 0}").find("dims"), std::string::npos);
  EXPECT_NE(message("{type: laplex_ou, dims: 10, image: [1, 3, 3]}").find("image"),
            std::string::npos);
  EXPECT_NE(message("{type: laplex_ou, dims: 9, image: [3, 3]}").find("image"), std::string::npos);
  EXPECT_NE(message("{type: laplex_ou, dims: 9, anchors: hilbert}").find("anchors"),
            std::string::npos);
  EXPECT_NE(message("{type: laplex_ou, dims: 9, eps: 0}").find("eps"), std::string::npos);
  EXPECT_NE(message("{type: laplex_ou, dims: 9, correlation: 1}").find("correlation"),
            std::string::npos);
  EXPECT_NE(message("{type: laplex_ou, dims: 9, scale_init: -1}").find("scale_init"),
            std::string::npos);
  EXPECT_NE(message("{type: laplex_ou, dims: 9, kernel: gpu}").find("kernel"), std::string::npos);
  EXPECT_NE(message("{type: laplex_ou, dims: 9, bogus: 1}").find("bogus"), std::string::npos);
  EXPECT_NE(message("{type: laplex_ou, dims: 9, order_search_images: -1}").find("order_search_images"),
            std::string::npos);
  EXPECT_NE(message("{type: laplex_ou, dims: 3000000, order_search_images: 1000}")
                .find("order_search_images"),
            std::string::npos);
  // C*H*W wrapped around 2^64 to equal dims once passed the check, and the
  // anchors' initialisation then wrote out of bounds.
  EXPECT_NE(message("{type: laplex_ou, dims: 4, image: [4611686018427387905, 4, 1]}").find("image"),
            std::string::npos);
  EXPECT_NE(message("{type: laplex_ou, dims: 100000000000}").find("dims"), std::string::npos);
  EXPECT_NE(message("{type: laplex_ou, dims: 9, scale_init: .inf}").find("scale_init"),
            std::string::npos);
  EXPECT_NE(message("{type: laplex_ou, dims: 9, mean_init: .nan}").find("mean_init"),
            std::string::npos);
  EXPECT_NE(message("{type: diagonal, dims: 9, mean_init: .inf}").find("mean_init"),
            std::string::npos);
  // Finite as doubles but not as float32 squares: these trained on NaN
  // from the first step and reported success.
  for (const char* model : {"laplex_ou", "diagonal", "ppca", "full"}) {
    const std::string head = std::string("{type: ") + model + ", dims: 9" +
                             (std::string(model) == "ppca" ? ", rank: 2" : "");
    EXPECT_NE(message(head + ", scale_init: 1e-30}").find("scale_init: must be in [1e-6, 1e6]"),
              std::string::npos)
        << model;
    EXPECT_NE(message(head + ", scale_init: 1e39}").find("scale_init"), std::string::npos) << model;
    EXPECT_NE(message(head + ", mean_init: 1e39}").find("mean_init: must be in [-1e6, 1e6]"),
              std::string::npos)
        << model;
  }
}

TEST(LaplexOu, RejectsMismatchedInput) {
  auto m = make_model(5, "auto", distinct_anchors(5, 1), 1, DType::f32);
  EXPECT_THROW(m->nll(Tensor::zeros({2, 4})), Error);
  EXPECT_THROW(m->nll(Tensor::zeros({2, 5}, DType::f64)), Error);
  EXPECT_EQ(m->nll(Tensor::zeros({2, 5})).shape(), (Shape{2}));
}

// A checkpoint whose scales softplus takes to 0 (d = -1e30) gave NaN for
// every NLL and exit 0 from laplex-eval; loading it is refused instead.
TEST(LaplexOu, LoadedScalesThatVanishAreRefused) {
  auto m = make_model(5, "auto", distinct_anchors(5, 1), 1, DType::f32);
  auto state = m->state_dict();
  // Copies: the state dict shares the module's tensors, which a refused
  // load may already have overwritten.
  for (auto& [name, tensor] : state) tensor = tensor.clone();
  EXPECT_NO_THROW(m->load_state_dict(state));
  auto bad = state;
  bad["d"] = Tensor::from_vector<float>({0, 1, -1e30f, 0, 0}, {5});
  try {
    m->load_state_dict(bad);
    ADD_FAILURE() << "accepted";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("softplus(d) is 0 at dimension 2"), std::string::npos)
        << e.what();
  }
  bad = state;
  bad["rho"] = Tensor::from_vector<float>({-1e30f}, {1});
  EXPECT_THROW(m->load_state_dict(bad), UsageError);
  // Very negative but representable scales (softplus(-80) ~ 1.8e-35) still load.
  bad = state;
  bad["d"] = Tensor::from_vector<float>({-80, 0, 0, 0, 0}, {5});
  EXPECT_NO_THROW(m->load_state_dict(bad));
}

// The trainer asks before its run starts: kernel: fused on a GPU would fail
// only at the first step, after the run's folder and log were made.
TEST(LaplexOu, FusedKernelRefusesAGpuDevice) {
  auto fused = make_model(5, "fused", distinct_anchors(5, 1), 1, DType::f32);
  EXPECT_NO_THROW(fused->check_device(Device::cpu()));
  try {
    fused->check_device(Device::cuda(0));
    ADD_FAILURE() << "no error";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("kernel: fused runs on the CPU only, this run is on cuda:0"),
              std::string::npos)
        << e.what();
  }
  for (const std::string kernel : {"auto", "composed"})
    EXPECT_NO_THROW(make_model(5, kernel, distinct_anchors(5, 1), 1)->check_device(Device::cuda(0)));
}

}  // namespace
}  // namespace laplex::testing
