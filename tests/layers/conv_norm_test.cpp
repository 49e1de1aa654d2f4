// conv2d, maxpool2d, avgpool2d, batchnorm, layernorm and dropout: forward
// values against direct float64 loops, float64 gradient checks, train/eval
// behaviour, seeded dropout, and YAML errors.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "core/ops/elementwise.h"
#include "core/ops/reduce.h"
#include "helpers/gradcheck.h"
#include "layers/conv/conv2d.h"
#include "layers/conv/pool.h"
#include "layers/dropout.h"
#include "layers/norm/batchnorm.h"
#include "layers/norm/layernorm.h"
#include "layers/registry.h"

namespace laplex::testing {
namespace {

std::shared_ptr<Module> build(const std::string& yaml) {
  BuildContext context;
  return build_module(config::ConfigNode(YAML::Load(yaml), "test.yaml", "model"), context);
}

// y[b,o,r,c] = bias[o] + sum_{ch,i,j} w[o,ch,i,j] x[b,ch,r s + i - p, c s + j - p].
std::vector<double> direct_conv(const Tensor& x, const Tensor& w, const Tensor& bias,
                                const Window2d& win) {
  const auto xv = x.to_vector<double>(), wv = w.to_vector<double>(), bv = bias.to_vector<double>();
  const std::int64_t B = x.size(0), C = x.size(1), H = x.size(2), W = x.size(3), O = w.size(0),
                     k = win.kernel;
  const std::int64_t OH = win.output_size(H), OW = win.output_size(W);
  std::vector<double> y(B * O * OH * OW);
  for (std::int64_t b = 0; b < B; ++b)
    for (std::int64_t o = 0; o < O; ++o)
      for (std::int64_t r = 0; r < OH; ++r)
        for (std::int64_t c = 0; c < OW; ++c) {
          double acc = bv[o];
          for (std::int64_t ch = 0; ch < C; ++ch)
            for (std::int64_t i = 0; i < k; ++i)
              for (std::int64_t j = 0; j < k; ++j) {
                const std::int64_t yy = r * win.stride + i - win.padding;
                const std::int64_t xx = c * win.stride + j - win.padding;
                if (yy < 0 || yy >= H || xx < 0 || xx >= W) continue;
                acc += wv[((o * C + ch) * k + i) * k + j] * xv[((b * C + ch) * H + yy) * W + xx];
              }
          y[((b * O + o) * OH + r) * OW + c] = acc;
        }
  return y;
}

TEST(Conv2d, MatchesDirectLoops) {
  for (const Window2d win : {Window2d{3, 1, 1}, Window2d{3, 2, 1}, Window2d{2, 2, 0},
                             Window2d{1, 1, 0}}) {
    const Tensor x = random_tensor({2, 3, 7, 6}, 1);
    const Tensor w = random_tensor({4, 3, win.kernel, win.kernel}, 2);
    const Tensor b = random_tensor({4}, 3);
    const Tensor y = conv2d(x, w, b, win);
    EXPECT_EQ(y.shape(), (Shape{2, 4, win.output_size(7), win.output_size(6)}));
    EXPECT_TRUE(all_close(y, Tensor::from_vector(direct_conv(x, w, b, win), y.shape()), 1e-12, 1e-12));
  }
}

TEST(Conv2d, Gradcheck) {
  const Window2d win{3, 2, 1};
  auto f = [win](const std::vector<Tensor>& in) { return conv2d(in[0], in[1], in[2], win); };
  EXPECT_TRUE(gradcheck(f, {random_tensor({2, 2, 5, 4}, 4), random_tensor({3, 2, 3, 3}, 5),
                            random_tensor({3}, 6)}));
}

TEST(Conv2d, LayerShapesAndErrors) {
  const auto conv = build("type: conv2d\nin_channels: 1\nout_channels: 8\nkernel_size: 3\npadding: 1\n");
  EXPECT_EQ(conv->forward(Tensor::zeros({2, 1, 28, 28})).shape(), (Shape{2, 8, 28, 28}));
  EXPECT_EQ(conv->named_parameters().size(), 2u);
  EXPECT_THROW(build("type: conv2d\nin_channels: 1\nout_channels: 8\nkernel_size: 0\n"), UsageError);
  EXPECT_THROW(build("type: conv2d\nin_channels: 1\nout_channels: 8\nkernel_size: 3\nstrides: 2\n"),
               UsageError);
  EXPECT_THROW(conv->forward(Tensor::zeros({2, 3, 28, 28})), Error);
  // size + 2 padding overflowed int64 and passed the fit check: the layer
  // "trained" on padding alone.
  for (const char* yaml :
       {"type: conv2d\nin_channels: 1\nout_channels: 2\nkernel_size: 3\npadding: 9223372036854775807\n",
        "type: conv2d\nin_channels: 1\nout_channels: 2\nkernel_size: 3037000500\n",
        "type: conv2d\nin_channels: 1\nout_channels: 4611686018427387904\nkernel_size: 3\n",
        "type: maxpool2d\nkernel_size: 2\npadding: 4611686018427387904\n",
        "type: avgpool2d\nkernel_size: 2\nstride: 9223372036854775807\n"})
    EXPECT_THROW(build(yaml), UsageError) << yaml;
}

std::vector<double> direct_pool(const Tensor& x, const Window2d& win, bool take_max) {
  const auto xv = x.to_vector<double>();
  const std::int64_t B = x.size(0), C = x.size(1), H = x.size(2), W = x.size(3), k = win.kernel;
  const std::int64_t OH = win.output_size(H), OW = win.output_size(W);
  std::vector<double> y;
  for (std::int64_t bc = 0; bc < B * C; ++bc)
    for (std::int64_t r = 0; r < OH; ++r)
      for (std::int64_t c = 0; c < OW; ++c) {
        double best = -std::numeric_limits<double>::infinity(), total = 0;
        for (std::int64_t i = 0; i < k; ++i)
          for (std::int64_t j = 0; j < k; ++j) {
            const std::int64_t yy = r * win.stride + i - win.padding;
            const std::int64_t xx = c * win.stride + j - win.padding;
            const bool inside = yy >= 0 && yy < H && xx >= 0 && xx < W;
            const double v = inside ? xv[(bc * H + yy) * W + xx] : 0.0;
            if (inside) best = std::max(best, v);
            total += v;
          }
        y.push_back(take_max ? best : total / static_cast<double>(k * k));
      }
  return y;
}

// cuDNN's descriptors hold int counts: an input that fits can still give an
// output that does not (many output channels), and such a convolution must
// take the unfold + GEMM path rather than throw from the descriptor.
TEST(Conv2d, CudnnFitChecksTheWeightAndTheOutputToo) {
  const Window2d same{3, 1, 1};
  EXPECT_TRUE(conv2d_fits_cudnn({64, 32, 28, 28}, {64, 32, 3, 3}, same));
  // x (32, 3, 512, 512) fits; y (32, 256, 512, 512) is 2.1e9 elements.
  EXPECT_FALSE(conv2d_fits_cudnn({32, 3, 512, 512}, {256, 3, 3, 3}, same));
  EXPECT_TRUE(conv2d_fits_cudnn({32, 3, 512, 512}, {255, 3, 3, 3}, same));
  // A stride shrinks the output back under the bound.
  EXPECT_TRUE(conv2d_fits_cudnn({32, 3, 512, 512}, {256, 3, 3, 3}, Window2d{3, 2, 1}));
  EXPECT_FALSE(conv2d_fits_cudnn({1, 1, 8, 8}, {std::int64_t{1} << 31, 1, 1, 1}, Window2d{1, 1, 0}));
  EXPECT_FALSE(conv2d_fits_cudnn({std::int64_t{1} << 31, 1, 1, 1}, {1, 1, 1, 1}, Window2d{1, 1, 0}));
}

TEST(Pool2d, MatchesDirectLoopsAndGradcheck) {
  for (const Window2d win : {Window2d{2, 2, 0}, Window2d{3, 2, 1}}) {
    const Tensor x = random_tensor({2, 3, 6, 5}, 7);
    const Tensor mx = max_pool2d(x, win), av = avg_pool2d(x, win);
    EXPECT_TRUE(all_close(mx, Tensor::from_vector(direct_pool(x, win, true), mx.shape()), 0, 0));
    EXPECT_TRUE(all_close(av, Tensor::from_vector(direct_pool(x, win, false), av.shape()), 1e-14, 1e-14));
    EXPECT_TRUE(gradcheck([win](const std::vector<Tensor>& in) { return max_pool2d(in[0], win); },
                          {random_tensor({1, 2, 6, 5}, 8)}));
    EXPECT_TRUE(gradcheck([win](const std::vector<Tensor>& in) { return avg_pool2d(in[0], win); },
                          {random_tensor({1, 2, 6, 5}, 9)}));
  }
  const auto pool = build("type: maxpool2d\nkernel_size: 2\n");
  EXPECT_EQ(pool->forward(Tensor::zeros({1, 4, 28, 28})).shape(), (Shape{1, 4, 14, 14}));
  EXPECT_THROW(build("type: avgpool2d\nkernel_size: 2\npadding: 2\n"), UsageError);
}

// Float64 parameters and statistics, so gradcheck can drive the module.
void to_f64(BatchNorm& bn) {
  bn.weight = random_tensor(bn.weight.shape(), 11, 0.5, 1.5);
  bn.bias = random_tensor(bn.bias.shape(), 12);
  bn.running_mean = bn.running_mean.to(DType::f64);
  bn.running_var = bn.running_var.to(DType::f64);
}

TEST(BatchNorm, TrainNormalisesAndUpdatesRunningStats) {
  BatchNorm bn({3, 2, 1e-5, 0.1, true});
  const Tensor x = add(mul(random_tensor({4, 3, 5, 5}, 13), 3.0), 2.0).to(DType::f32);
  const Tensor y = bn.forward(x);
  const auto mu = mean(y, {0, 2, 3}).to_vector<double>();
  for (double m : mu) EXPECT_NEAR(m, 0.0, 1e-5);
  const auto var = mean(square(y), {0, 2, 3}).to_vector<double>();
  for (double v : var) EXPECT_NEAR(v, 1.0, 1e-3);
  // running = 0.9 * initial + 0.1 * batch statistic (unbiased variance).
  const auto batch_mean = mean(x, {0, 2, 3}).to_vector<double>();
  const auto centred = sub(x, mean(x, {0, 2, 3}, true));
  const auto batch_var = mean(square(centred), {0, 2, 3}).to_vector<double>();
  const auto rm = bn.running_mean.to_vector<double>(), rv = bn.running_var.to_vector<double>();
  for (int c = 0; c < 3; ++c) {
    EXPECT_NEAR(rm[c], 0.1 * batch_mean[c], 1e-5);
    EXPECT_NEAR(rv[c], 0.9 + 0.1 * batch_var[c] * 100.0 / 99.0, 1e-4);
  }
  bn.eval();
  const Tensor z = bn.forward(x);
  const double expected = (x.to_vector<double>()[0] - rm[0]) / std::sqrt(rv[0] + 1e-5);
  EXPECT_NEAR(z.to_vector<double>()[0], expected, 1e-5);
  EXPECT_EQ(bn.state_dict().count("running_var"), 1u);
  // A checkpoint with a negative variance is damaged, not a state to run.
  auto state = bn.state_dict();
  state["running_var"] = Tensor::from_vector<float>({1, -0.5f, 2}, {3});
  EXPECT_THROW(bn.load_state_dict(state), UsageError);
  state["running_var"] = Tensor::from_vector<float>({1, 0, 2}, {3});
  EXPECT_NO_THROW(bn.load_state_dict(state));
}

TEST(BatchNorm, Gradcheck1dAnd2d) {
  for (int dims : {1, 2}) {
    BatchNorm bn({3, dims, 1e-5, 0.1, true});
    to_f64(bn);
    const Shape shape = dims == 2 ? Shape{3, 3, 2, 2} : Shape{5, 3};
    auto f = [&bn](const std::vector<Tensor>& in) {
      bn.weight = in[1];
      bn.bias = in[2];
      return bn.forward(in[0]);
    };
    EXPECT_TRUE(gradcheck(f, {random_tensor(shape, 14), random_tensor({3}, 15, 0.5, 1.5),
                              random_tensor({3}, 16)}));
  }
  EXPECT_THROW(build("type: batchnorm\nfeatures: 4\ndims: 3\n"), UsageError);
}

TEST(LayerNorm, ValuesAndGradcheck) {
  LayerNorm ln(4, 1e-5, true);
  const Tensor x = random_tensor({3, 4}, 17).to(DType::f32);
  const auto y = ln.forward(x).to_vector<double>();
  const auto xv = x.to_vector<double>();
  for (int r = 0; r < 3; ++r) {
    double m = 0, v = 0;
    for (int k = 0; k < 4; ++k) m += xv[r * 4 + k] / 4;
    for (int k = 0; k < 4; ++k) v += (xv[r * 4 + k] - m) * (xv[r * 4 + k] - m) / 4;
    for (int k = 0; k < 4; ++k)
      EXPECT_NEAR(y[r * 4 + k], (xv[r * 4 + k] - m) / std::sqrt(v + 1e-5), 1e-5);
  }
  auto f = [&ln](const std::vector<Tensor>& in) {
    ln.weight = in[1];
    ln.bias = in[2];
    return ln.forward(in[0]);
  };
  EXPECT_TRUE(gradcheck(f, {random_tensor({3, 4}, 18), random_tensor({4}, 19), random_tensor({4}, 20)}));
  EXPECT_THROW(build("type: layernorm\nfeatures: 0\n"), UsageError);
}

TEST(Dropout, SeededTrainAndIdentityInEval) {
  Dropout a(0.25, 5), b(0.25, 5);
  const Tensor x = Tensor::ones({100, 100});
  const Tensor ya = a.forward(x), yb = b.forward(x);
  EXPECT_TRUE(all_close(ya, yb, 0, 0));  // same seed, same mask
  const auto v = ya.to_vector<double>();
  double kept = 0;
  for (double e : v) {
    EXPECT_TRUE(e == 0.0 || std::fabs(e - 1.0 / 0.75) < 1e-6);
    kept += e != 0.0;
  }
  EXPECT_NEAR(kept / 10000.0, 0.75, 0.02);
  EXPECT_FALSE(all_close(a.forward(x), ya, 0, 0));  // the next draw differs
  a.eval();
  EXPECT_TRUE(all_close(a.forward(x), x, 0, 0));
  Dropout g(0.5, 9);
  const Tensor leaf = random_tensor({20}, 21).set_requires_grad(true);
  const Tensor out = g.forward(leaf);
  sum(out).backward();
  const auto grad = leaf.grad().to_vector<double>(), ov = out.to_vector<double>();
  for (std::size_t k = 0; k < grad.size(); ++k) EXPECT_EQ(grad[k], ov[k] == 0.0 ? 0.0 : 2.0);
  EXPECT_THROW(build("type: dropout\np: 1.0\n"), UsageError);
}

TEST(Dropout, TheDrawCounterTravelsInTheStateDict) {
  // A resumed run must draw the masks an uninterrupted one draws next.
  Dropout a(0.4, 3), resumed(0.4, 3);
  const Tensor x = Tensor::ones({50, 50});
  a.forward(x);
  a.forward(x);
  const auto state = a.state_dict();
  ASSERT_EQ(state.count("draws"), 1u);
  EXPECT_EQ(state.at("draws").to_vector<std::int64_t>(), (std::vector<std::int64_t>{2}));
  resumed.load_state_dict(state);
  EXPECT_TRUE(all_close(resumed.forward(x), a.forward(x), 0, 0));
  auto bad = state;
  bad["draws"] = Tensor::from_vector<std::int64_t>({-1}, {1});
  EXPECT_THROW(resumed.load_state_dict(bad), UsageError);
  // Past 2^53 the count no longer round-trips through fill_'s double.
  bad["draws"] = Tensor::from_vector<std::int64_t>({INT64_MAX}, {1});
  EXPECT_THROW(resumed.load_state_dict(bad), UsageError);
  bad["draws"] = Tensor::from_vector<std::int64_t>({std::int64_t{1} << 53}, {1});
  EXPECT_NO_THROW(resumed.load_state_dict(bad));
}

}  // namespace
}  // namespace laplex::testing
