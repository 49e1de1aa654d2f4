#include <gtest/gtest.h>

#include <cmath>
#include <numbers>
#include <vector>

#include "core/ops/reduce.h"
#include "core/ops/elementwise.h"
#include "layers/fft/fft_circulant.h"
#include "layers/fft/fft_diag.h"
#include "layers/registry.h"
#include "helpers/gradcheck.h"

namespace laplex {
namespace {

using testing::all_close;
using testing::gradcheck;
using testing::random_tensor;

using Matrix = std::vector<std::vector<double>>;  // rows of a dense matrix

// The L x L circulant whose first column is irfft(spectrum, L), built from
// the definition: C[j][i] = c[(j - i) mod L].
Matrix dense_circulant(const std::vector<double>& spectrum, std::int64_t L) {
  const std::int64_t k_count = L / 2 + 1;
  std::vector<double> c(L);
  for (std::int64_t t = 0; t < L; ++t) {
    double acc = 0;
    for (std::int64_t k = 0; k < L; ++k) {
      const bool mirrored = k >= k_count;
      const std::int64_t src = mirrored ? L - k : k;
      const double re = spectrum[2 * src];
      double im = (src == 0 || 2 * src == L) ? 0.0 : spectrum[2 * src + 1];
      if (mirrored) im = -im;
      const double theta = 2 * std::numbers::pi * double(t * k % L) / double(L);
      acc += re * std::cos(theta) - im * std::sin(theta);
    }
    c[t] = acc / double(L);
  }
  Matrix C(L, std::vector<double>(L));
  for (std::int64_t j = 0; j < L; ++j)
    for (std::int64_t i = 0; i < L; ++i) C[j][i] = c[((j - i) % L + L) % L];
  return C;
}

Matrix multiply(const Matrix& a, const Matrix& b) {
  Matrix out(a.size(), std::vector<double>(b[0].size(), 0.0));
  for (std::size_t i = 0; i < a.size(); ++i)
    for (std::size_t k = 0; k < b.size(); ++k)
      for (std::size_t j = 0; j < b[0].size(); ++j) out[i][j] += a[i][k] * b[k][j];
  return out;
}

Matrix diagonal(const std::vector<double>& d) {
  Matrix out(d.size(), std::vector<double>(d.size(), 0.0));
  for (std::size_t i = 0; i < d.size(); ++i) out[i][i] = d[i];
  return out;
}

// y = W[:out, :in] x + bias for x (rows, in).
Tensor apply_dense(const Matrix& W, const Tensor& x, const Tensor& bias, std::int64_t out) {
  const std::int64_t in = x.shape().back(), rows = x.numel() / in;
  const auto v = x.to_vector<double>();
  const auto b = bias.defined() ? bias.to_vector<double>() : std::vector<double>(out, 0.0);
  std::vector<double> y(rows * out);
  for (std::int64_t r = 0; r < rows; ++r)
    for (std::int64_t j = 0; j < out; ++j) {
      double acc = b[j];
      for (std::int64_t i = 0; i < in; ++i) acc += W[j][i] * v[r * in + i];
      y[r * out + j] = acc;
    }
  return Tensor::from_vector(y, {rows, out});
}

std::vector<double> row(const Tensor& stacked, std::int64_t f) {
  const auto all = stacked.to_vector<double>();
  const std::int64_t width = stacked.numel() / stacked.shape()[0];
  return {all.begin() + f * width, all.begin() + (f + 1) * width};
}

// The dense matrix of fft_diag: diag(d_out[F-1]) C_{F-1} ... diag(d_out[0]) C_0 diag(d_in).
Matrix dense_fft_diag(const Tensor& d_in, const Tensor& spectrum, const Tensor& d_out,
                      std::int64_t L) {
  Matrix W = diagonal(d_in.to_vector<double>());
  for (std::int64_t f = 0; f < spectrum.shape()[0]; ++f)
    W = multiply(diagonal(row(d_out, f)), multiply(dense_circulant(row(spectrum, f), L), W));
  return W;
}

struct Sizes {
  std::int64_t in, out;
};
const Sizes kSizes[] = {{6, 6}, {5, 8}, {8, 5}, {4, 7}, {9, 3}};

TEST(FftCirculant, MatchesDenseCirculant) {
  for (const auto [in, out] : kSizes) {
    const std::int64_t L = std::max(in, out);
    const Tensor x = random_tensor({4, in}, 1), spectrum = random_tensor({L / 2 + 1, 2}, 2);
    const Tensor bias = random_tensor({out}, 3);
    const Matrix C = dense_circulant(spectrum.to_vector<double>(), L);
    EXPECT_TRUE(all_close(fft_circulant(x, spectrum, bias, L, out), apply_dense(C, x, bias, out),
                          1e-12, 1e-12))
        << in << " -> " << out;
    EXPECT_TRUE(all_close(fft_circulant(x, spectrum, Tensor(), L, out),
                          apply_dense(C, x, Tensor(), out), 1e-12, 1e-12));
  }
}

TEST(FftCirculant, ModuleMatchesDenseInFloat32) {
  FftCirculant layer(7, 12, true, 5, 0);
  EXPECT_EQ(layer.spectrum.shape(), (Shape{7, 2}));
  layer.bias.copy_(Tensor::full({12}, 0.25));
  const Tensor x = random_tensor({3, 7}, 4);
  const Matrix C = dense_circulant(layer.spectrum.to_vector<double>(), 12);
  const Tensor y = layer(x.to(DType::f32));
  EXPECT_EQ(y.shape(), (Shape{3, 12}));
  EXPECT_TRUE(all_close(y.to(DType::f64), apply_dense(C, x, layer.bias, 12), 1e-5, 1e-5));
  EXPECT_THROW(layer(Tensor::zeros({3, 8})), Error);
}

TEST(FftCirculant, Gradients) {
  for (const auto [in, out] : kSizes) {
    const std::int64_t L = std::max(in, out);
    EXPECT_TRUE(gradcheck(
        [L, out](const std::vector<Tensor>& p) { return fft_circulant(p[0], p[1], p[2], L, out); },
        {random_tensor({3, in}, 10), random_tensor({L / 2 + 1, 2}, 11), random_tensor({out}, 12)}))
        << in << " -> " << out;
  }
}

TEST(FftDiag, MatchesDenseProduct) {
  for (const auto [in, out] : kSizes) {
    for (std::int64_t factors : {1, 2, 3}) {
      const std::int64_t L = std::max(in, out);
      const Tensor x = random_tensor({4, in}, 20), d_in = random_tensor({L}, 21);
      const Tensor spectrum = random_tensor({factors, L / 2 + 1, 2}, 22);
      const Tensor d_out = random_tensor({factors, L}, 23), bias = random_tensor({out}, 24);
      const Matrix W = dense_fft_diag(d_in, spectrum, d_out, L);
      EXPECT_TRUE(all_close(fft_diag(x, d_in, spectrum, d_out, bias, L, out),
                            apply_dense(W, x, bias, out), 1e-12, 1e-12))
          << in << " -> " << out << ", factors " << factors;
    }
  }
}

TEST(FftDiag, Gradients) {
  for (const auto [in, out] : kSizes) {
    for (std::int64_t factors : {1, 2}) {
      const std::int64_t L = std::max(in, out);
      EXPECT_TRUE(gradcheck(
          [L, out](const std::vector<Tensor>& p) {
            return fft_diag(p[0], p[1], p[2], p[3], p[4], L, out);
          },
          {random_tensor({3, in}, 30), random_tensor({L}, 31),
           random_tensor({factors, L / 2 + 1, 2}, 32), random_tensor({factors, L}, 33),
           random_tensor({out}, 34)}))
          << in << " -> " << out << ", factors " << factors;
    }
  }
}

TEST(FftDiag, ModuleShapesAndForward) {
  FftDiag layer(10, 6, true, 2, 9, 3);
  EXPECT_EQ(layer.d_in.shape(), (Shape{10}));
  EXPECT_EQ(layer.spectrum.shape(), (Shape{2, 6, 2}));
  EXPECT_EQ(layer.d_out.shape(), (Shape{2, 10}));
  EXPECT_EQ(layer.bias.shape(), (Shape{6}));
  for (float d : layer.d_in.to_vector<float>()) EXPECT_EQ(std::abs(d), 1.0f);
  const Tensor x = random_tensor({5, 10}, 40);
  const Matrix W = dense_fft_diag(layer.d_in, layer.spectrum, layer.d_out, 10);
  EXPECT_TRUE(all_close(layer(x.to(DType::f32)).to(DType::f64), apply_dense(W, x, layer.bias, 6),
                        1e-5, 1e-5));
  // Gradients reach every parameter through the module.
  sum(square(layer(x.to(DType::f32)))).backward();
  for (auto& [name, p] : layer.named_parameters()) EXPECT_TRUE(p.grad().defined()) << name;
}

std::shared_ptr<Module> build(const std::string& yaml, std::uint64_t seed = 0) {
  BuildContext context;
  context.seed = seed;
  return build_module(config::ConfigNode(YAML::Load(yaml), "test.yaml", "model"), context);
}

TEST(FftLayers, BuildFromYaml) {
  auto mlp = build("type: sequential\nlayers:\n  - {type: fft_diag, in: 784, out: 256}\n"
                   "  - {type: relu}\n  - {type: fft_diag, in: 256, out: 10, bias: true}\n");
  std::vector<std::string> names;
  for (auto& [name, t] : mlp->named_parameters("model")) names.push_back(name);
  EXPECT_EQ(names, (std::vector<std::string>{"model.0.d_in", "model.0.spectrum", "model.0.d_out",
                                             "model.0.bias", "model.2.d_in", "model.2.spectrum",
                                             "model.2.d_out", "model.2.bias"}));
  // (784 + 393 * 2 + 784 + 256) + (256 + 129 * 2 + 256 + 10)
  EXPECT_EQ(mlp->parameter_count(), 3390);
  EXPECT_EQ(mlp->forward(Tensor::zeros({2, 784})).shape(), (Shape{2, 10}));

  auto circulant = build("type: fft_circulant\nin: 20\nout: 30\nbias: false\n");
  EXPECT_EQ(circulant->named_parameters().size(), 1u);
  EXPECT_EQ(circulant->parameter_count(), 16 * 2);
  auto diag = build("type: fft_diag\nin: 20\nout: 30\nfactors: 3\n");
  EXPECT_EQ(diag->parameter_count(), 30 + 3 * 16 * 2 + 3 * 30 + 30);

  EXPECT_THROW(build("type: fft_circulant\nin: 0\nout: 3\n"), UsageError);
  EXPECT_THROW(build("type: fft_diag\nin: 4\nout: 3\nfactors: 0\n"), UsageError);
  // Unbounded, it looped once per factor while the memory grew.
  EXPECT_THROW(build("type: fft_diag\nin: 4\nout: 3\nfactors: 2147483647\n"), UsageError);
  EXPECT_THROW(build("type: fft_diag\nin: 4\n"), UsageError);
  EXPECT_THROW(build("type: fft_circulant\nin: 4\nout: 4\nrank: 2\n"), UsageError);
}

TEST(FftLayers, InitialisationIsSeeded) {
  const std::string yaml = "type: fft_diag\nin: 12\nout: 8\n";
  const auto a = build(yaml, 1)->state_dict(), b = build(yaml, 1)->state_dict();
  const auto c = build(yaml, 2)->state_dict();
  for (auto& [name, t] : a) EXPECT_EQ(t.to_vector<float>(), b.at(name).to_vector<float>()) << name;
  EXPECT_NE(a.at("spectrum").to_vector<float>(), c.at("spectrum").to_vector<float>());
}

// The documented claim: with zero-mean i.i.d. inputs, Var(y) ≈ Var(x) at
// init. The ratio depends on the drawn filter (relative spread about
// sqrt(2 / L) per layer), so it is averaged over many seeds; the tolerance
// is about five standard errors of that average.
double mean_variance_ratio(const std::string& yaml, std::int64_t in) {
  constexpr int kSeeds = 16;
  double total = 0;
  for (int seed = 0; seed < kSeeds; ++seed) {
    auto layer = build(yaml, 1000 + seed);
    // Uniform on [-sqrt 3, sqrt 3): variance 1.
    const Tensor x =
        random_tensor({512, in}, 77 + seed, -std::sqrt(3.0), std::sqrt(3.0)).to(DType::f32);
    const Tensor y = layer->forward(x);
    const double var_x = mean(square(x)).item();
    const double var_y = mean(square(sub(y, mean(y)))).item();
    total += var_y / var_x;
  }
  return total / kSeeds;
}

TEST(FftLayers, OutputVarianceMatchesInputVarianceAtInit) {
  struct Case {
    std::string type;
    std::int64_t in, out, factors;
  };
  for (const Case& c : {Case{"fft_circulant", 256, 256, 1}, Case{"fft_circulant", 100, 300, 1},
                        Case{"fft_circulant", 300, 100, 1}, Case{"fft_diag", 256, 256, 1},
                        Case{"fft_diag", 100, 300, 1}, Case{"fft_diag", 300, 100, 1},
                        Case{"fft_diag", 200, 300, 3}}) {
    std::string yaml = "type: " + c.type + "\nin: " + std::to_string(c.in) +
                       "\nout: " + std::to_string(c.out) + "\n";
    if (c.type == "fft_diag") yaml += "factors: " + std::to_string(c.factors) + "\n";
    const double ratio = mean_variance_ratio(yaml, c.in);
    const double tolerance = 5.0 * std::sqrt(2.0 * c.factors / double(std::min(c.in, c.out)) / 16);
    EXPECT_NEAR(ratio, 1.0, tolerance) << c.type << " " << c.in << " -> " << c.out;
  }
}

}  // namespace
}  // namespace laplex
