// The CPU kernels of conv2d, maxpool2d/avgpool2d and batchnorm (one autograd
// op each, src/layers/*/cpu/) against references built from engine ops
// (im2col through unfold2d + linear, unfold2d + max/mean, the composed
// batch-norm formula), which autograd differentiates independently: outputs
// and every gradient in float64 over kernels 1/2/3/5, strides 1/2, padding
// 0/1/2, batches 1/3 and channels 1/3/16; only-some-gradients; strided
// inputs; ties in max pooling; float32 against float64; dtype errors.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "core/ops/elementwise.h"
#include "core/ops/matmul.h"
#include "core/ops/reduce.h"
#include "core/ops/view.h"
#include "helpers/conv_cases.h"
#include "helpers/gradcheck.h"
#include "layers/conv/conv2d.h"
#include "layers/conv/pool.h"
#include "layers/norm/batchnorm.h"

namespace laplex::testing {
namespace {

// conv2d as the engine composes it: unfold2d, a permute and one linear.
Tensor reference_conv(const Tensor& x, const Tensor& w, const Tensor& b, const Window2d& win) {
  const std::int64_t batch = x.size(0), channels = x.size(1), out = w.size(0);
  const std::int64_t oh = win.output_size(x.size(2)), ow = win.output_size(x.size(3));
  const std::int64_t k2 = win.kernel * win.kernel;
  const Tensor cols = unfold2d(x, win, 0.0);
  const Tensor rows = reshape(permute(cols, {0, 2, 1, 3}), {batch * oh * ow, channels * k2});
  const Tensor y = linear(rows, reshape(w, {out, channels * k2}), b);
  return reshape(permute(reshape(y, {batch, oh * ow, out}), {0, 2, 1}), {batch, out, oh, ow});
}

struct Grads {
  Tensor y, x, w, b;
};

// Output and the gradients of sum(y * g) for a fixed random g.
template <class F>
Grads run(F f, const Tensor& x0, const Tensor& w0, const Tensor& b0, bool need_x, bool need_w,
          bool need_b) {
  Tensor x = x0.clone().set_requires_grad(need_x), w = w0.clone().set_requires_grad(need_w);
  Tensor b = b0.defined() ? b0.clone().set_requires_grad(need_b) : Tensor();
  const Tensor y = f(x, w, b);
  sum(mul(y, random_tensor(y.shape(), 99))).backward();
  return {y.detach(), x.grad(), w.grad(), b.defined() ? b.grad() : Tensor()};
}


TEST(Conv2dCpuKernels, OutputsAndGradientsMatchTheComposedReference) {
  std::vector<ConvCase> cases = conv_cases();
  cases.push_back({2, 3, 4, 6, 6, {2, 2, 0}});  // an even kernel
  for (const ConvCase& c : cases) {
    SCOPED_TRACE(describe(c));
    const Tensor x = random_tensor({c.batch, c.in, c.height, c.width}, 1);
    const Tensor w = random_tensor({c.out, c.in, c.window.kernel, c.window.kernel}, 2);
    const Tensor b = random_tensor({c.out}, 3);
    auto fast = [&](const Tensor& xi, const Tensor& wi, const Tensor& bi) {
      return conv2d(xi, wi, bi, c.window);
    };
    auto slow = [&](const Tensor& xi, const Tensor& wi, const Tensor& bi) {
      return reference_conv(xi, wi, bi, c.window);
    };
    const Grads got = run(fast, x, w, b, true, true, true);
    const Grads want = run(slow, x, w, b, true, true, true);
    EXPECT_TRUE(all_close(got.y, want.y, 1e-12, 1e-12));
    EXPECT_TRUE(all_close(got.x, want.x, 1e-12, 1e-12));
    EXPECT_TRUE(all_close(got.w, want.w, 1e-12, 1e-12));
    EXPECT_TRUE(all_close(got.b, want.b, 1e-12, 1e-12));
  }
}

TEST(Conv2dCpuKernels, OnlyTheRequestedGradientsAndNoBias) {
  const Window2d win{3, 1, 1};
  const Tensor x = random_tensor({2, 3, 6, 5}, 4), w = random_tensor({4, 3, 3, 3}, 5);
  auto fast = [&](const Tensor& xi, const Tensor& wi, const Tensor& bi) {
    return conv2d(xi, wi, bi, win);
  };
  auto slow = [&](const Tensor& xi, const Tensor& wi, const Tensor& bi) {
    return reference_conv(xi, wi, bi, win);
  };
  // A first layer: the image needs no gradient.
  const Grads weights_only = run(fast, x, w, Tensor(), false, true, false);
  EXPECT_FALSE(weights_only.x.defined());
  EXPECT_TRUE(all_close(weights_only.w, run(slow, x, w, Tensor(), false, true, false).w, 1e-12, 1e-12));
  const Grads input_only = run(fast, x, w, Tensor(), true, false, false);
  EXPECT_FALSE(input_only.w.defined());
  EXPECT_TRUE(all_close(input_only.x, run(slow, x, w, Tensor(), true, false, false).x, 1e-12, 1e-12));
}

TEST(Conv2dCpuKernels, StridedInputFloat32AndAMismatchedWeight) {
  const Window2d win{3, 2, 1};
  // A transposed (non-contiguous) view of the image.
  const Tensor base = random_tensor({2, 3, 7, 9}, 6);
  const Tensor x = transpose(base, 2, 3);
  const Tensor w = random_tensor({5, 3, 3, 3}, 7), b = random_tensor({5}, 8);
  EXPECT_TRUE(all_close(conv2d(x, w, b, win), reference_conv(x.contiguous(), w, b, win), 1e-12, 1e-12));
  // Float32 kernels against the float64 result: sums of 27 products.
  const Tensor y32 = conv2d(x.to(DType::f32), w.to(DType::f32), b.to(DType::f32), win);
  EXPECT_EQ(y32.dtype(), DType::f32);
  EXPECT_TRUE(all_close(y32.to(DType::f64), conv2d(x, w, b, win), 1e-5, 1e-5));
  // Mixed dtypes are an error that names the weight.
  try {
    conv2d(x, w.to(DType::f32), b, win);
    ADD_FAILURE() << "a float32 weight on a float64 input was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("weight must be float64"), std::string::npos) << e.what();
  }
}

TEST(Pool2dCpuKernels, OutputsAndGradientsMatchTheComposedReference) {
  // 2x2 and 3x3 stride = kernel take the tiled max-pool path (9 x 8: the
  // last rows and columns lie in no window).
  for (const Window2d win : {Window2d{2, 2, 0}, Window2d{3, 3, 0}, Window2d{3, 2, 1},
                             Window2d{3, 1, 1}, Window2d{2, 1, 1}, Window2d{5, 3, 2}}) {
    SCOPED_TRACE("kernel " + std::to_string(win.kernel) + " stride " + std::to_string(win.stride) +
                 " padding " + std::to_string(win.padding));
    for (const bool take_max : {true, false}) {
      auto fast = [&](const Tensor& xi, const Tensor&, const Tensor&) {
        return take_max ? max_pool2d(xi, win) : avg_pool2d(xi, win);
      };
      auto slow = [&](const Tensor& xi, const Tensor&, const Tensor&) {
        const double pad = take_max ? -INFINITY : 0.0;
        const Tensor cols = unfold2d(xi, win, pad);
        const Tensor pooled = take_max ? max(cols, 3) : mean(cols, {3});
        return reshape(pooled, {xi.size(0), xi.size(1), win.output_size(xi.size(2)),
                                win.output_size(xi.size(3))});
      };
      const Tensor x = random_tensor({3, 4, 9, 8}, 10), none = Tensor::zeros({1});
      const Grads got = run(fast, x, none, Tensor(), true, false, false);
      const Grads want = run(slow, x, none, Tensor(), true, false, false);
      EXPECT_TRUE(all_close(got.y, want.y, 1e-14, 1e-14));
      EXPECT_TRUE(all_close(got.x, want.x, 1e-14, 1e-14));
    }
  }
}

TEST(Pool2dCpuKernels, TiesSendTheGradientToTheFirstMaximum) {
  // A constant 2x2 window: PyTorch's MaxPool2d routes the gradient to its
  // first element in row-major order.
  Tensor x = Tensor::ones({1, 1, 2, 4}, DType::f64).set_requires_grad(true);
  sum(max_pool2d(x, Window2d{2, 2, 0})).backward();
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{1, 0, 1, 0, 0, 0, 0, 0}));
}

// A NaN in a window is its maximum (PyTorch's MaxPool2d), and the gradient
// goes to it, on the tiled path (2x2, 3x3) and the general one (3x3 stride 2).
TEST(Pool2dCpuKernels, ANaNIsTheMaximumOfItsWindowAndTakesItsGradient) {
  for (const Window2d win : {Window2d{2, 2, 0}, Window2d{3, 3, 0}, Window2d{3, 2, 0}}) {
    SCOPED_TRACE("kernel " + std::to_string(win.kernel) + " stride " + std::to_string(win.stride));
    for (const DType dtype : {DType::f32, DType::f64}) {
      std::vector<double> values(36);
      for (std::size_t i = 0; i < values.size(); ++i) values[i] = static_cast<double>(i % 7);
      values[7] = NAN;  // row 1, column 1: inside the first window of each
      Tensor x = Tensor::from_vector(values, {1, 1, 6, 6}).to(dtype).set_requires_grad(true);
      const Tensor y = max_pool2d(x, win);
      EXPECT_TRUE(std::isnan(y.to(DType::f64).to_vector<double>()[0]));
      sum(y).backward();
      const std::vector<double> grad = x.grad().to(DType::f64).to_vector<double>();
      EXPECT_EQ(grad[7], 1.0);
      EXPECT_EQ(grad[0], 0.0);
      EXPECT_EQ(grad[1], 0.0);
      EXPECT_EQ(grad[6], 0.0);
    }
  }
}

// Batch norm from engine ops, the formula of batchnorm.h.
Tensor reference_batchnorm(const Tensor& x, const Tensor& w, const Tensor& b, double eps) {
  const std::vector<std::int64_t> over = x.dim() == 4 ? std::vector<std::int64_t>{0, 2, 3}
                                                      : std::vector<std::int64_t>{0};
  const Shape per_channel = x.dim() == 4 ? Shape{1, x.size(1), 1, 1} : Shape{1, x.size(1)};
  const Tensor centred = sub(x, mean(x, over, true));
  const Tensor normalised = div(centred, sqrt(add(mean(square(centred), over, true), eps)));
  return add(mul(normalised, reshape(w, per_channel)), reshape(b, per_channel));
}

TEST(BatchNormCpuKernels, TrainAndEvalMatchTheComposedFormula) {
  for (const Shape& shape : {Shape{4, 3, 5, 6}, Shape{7, 3}}) {
    const int dims = shape.size() == 4 ? 2 : 1;
    const Tensor x = add(mul(random_tensor(shape, 11), 3.0), 5.0);  // far from zero
    const Tensor w = random_tensor({3}, 12, 0.5, 1.5), b = random_tensor({3}, 13);
    auto fast = [&](const Tensor& xi, const Tensor& wi, const Tensor& bi) {
      BatchNorm bn({3, dims, 1e-5, 0.1, true});
      bn.weight = wi;
      bn.bias = bi;
      bn.running_mean = bn.running_mean.to(DType::f64);
      bn.running_var = bn.running_var.to(DType::f64);
      return bn.forward(xi);
    };
    auto slow = [&](const Tensor& xi, const Tensor& wi, const Tensor& bi) {
      return reference_batchnorm(xi, wi, bi, 1e-5);
    };
    const Grads got = run(fast, x, w, b, true, true, true);
    const Grads want = run(slow, x, w, b, true, true, true);
    EXPECT_TRUE(all_close(got.y, want.y, 1e-10, 1e-10));
    EXPECT_TRUE(all_close(got.x, want.x, 1e-10, 1e-10));
    EXPECT_TRUE(all_close(got.w, want.w, 1e-10, 1e-10));
    EXPECT_TRUE(all_close(got.b, want.b, 1e-10, 1e-10));

    // Evaluation: the running statistics are constants of the map.
    BatchNorm bn({3, dims, 1e-5, 0.1, true});
    bn.running_mean = random_tensor({3}, 14);
    bn.running_var = random_tensor({3}, 15, 0.5, 2.0);
    bn.eval();
    auto eval = [&bn](const std::vector<Tensor>& in) {
      bn.weight = in[1];
      bn.bias = in[2];
      return bn.forward(in[0]);
    };
    EXPECT_TRUE(gradcheck(eval, {random_tensor(shape, 16), w, b}));
    BatchNorm plain({3, dims, 1e-5, 0.1, false});
    plain.running_mean = plain.running_mean.to(DType::f64);
    plain.running_var = plain.running_var.to(DType::f64);
    EXPECT_TRUE(gradcheck([&plain](const std::vector<Tensor>& in) { return plain.forward(in[0]); },
                          {random_tensor(shape, 17)}));
  }
}

}  // namespace
}  // namespace laplex::testing
