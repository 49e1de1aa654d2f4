// conv2d, maxpool2d and avgpool2d through cuDNN (CUDA float32 tensors, laplex
// built with cuDNN) against the CPU im2col path: outputs and the gradients of
// x, weight and bias over kernels 1/3/5, strides 1/2, padding 0/1/2, batches
// 1/3 and channels 1/3/16; and checks that the cuDNN path is the one taken.
// Skips without a GPU; the path checks also skip when built without cuDNN.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "core/autograd/node.h"
#include "core/ops/elementwise.h"
#include "core/ops/view.h"
#include "core/random.h"
#include "helpers/device_twin.h"
#include "helpers/conv_cases.h"
#include "helpers/gradcheck.h"
#include "layers/conv/conv2d.h"
#include "layers/conv/pool.h"

namespace laplex::testing {
namespace {

Tensor f32(const Shape& shape, std::uint64_t seed) { return random_tensor(shape, seed).to(DType::f32); }

// With a GPU, a CUDA float32 tensor takes the cuDNN path exactly when
// laplex was built with cuDNN (LAPLEX_WITH_CUDNN is defined only for
// src/layers/conv/, so the test asks the library).
#define LAPLEX_REQUIRE_CUDNN()                                                      \
  do {                                                                              \
    LAPLEX_REQUIRE_GPU();                                                           \
    if (!conv2d_uses_cudnn(Tensor::zeros({1, 1, 1, 1}, DType::f32, Device::cuda(0)))) \
      GTEST_SKIP() << "laplex was built without cuDNN";                             \
  } while (0)

// Sums over up to C k^2 = 400 products (forward) or B OH OW (weight
// gradient): float32 rounding in a different order than the CPU GEMM.
constexpr double kAtol = 1e-4, kRtol = 1e-4;


TEST(Conv2dCudnn, CpuTensorsNeverTakeTheCudnnPath) {
  EXPECT_FALSE(conv2d_uses_cudnn(f32({1, 1, 3, 3}, 1)));
  EXPECT_FALSE(pool2d_uses_cudnn(f32({1, 1, 3, 3}, 1), Window2d{2, 2, 0}));
}

TEST(Conv2dCudnnGpu, CudaFloat32TakesTheCudnnPath) {
  LAPLEX_REQUIRE_CUDNN();
  const Device gpu = Device::cuda(0);
  const Tensor x = f32({2, 3, 6, 6}, 1).to(gpu).set_requires_grad(true);
  EXPECT_TRUE(conv2d_uses_cudnn(x));
  EXPECT_FALSE(conv2d_uses_cudnn(x.to(DType::f64)));
  EXPECT_FALSE(conv2d_uses_cudnn(Tensor::empty({0, 3, 6, 6}, DType::f32, gpu)));
  Tensor w = f32({4, 3, 3, 3}, 2).to(gpu), b = f32({4}, 3).to(gpu);
  const Tensor y = conv2d(x, w, b, Window2d{3, 1, 1});
  ASSERT_TRUE(y.grad_fn() != nullptr);
  EXPECT_EQ(y.grad_fn()->name(), "conv2d_cudnn");

  EXPECT_TRUE(pool2d_uses_cudnn(x, Window2d{2, 2, 0}));
  EXPECT_EQ(max_pool2d(x, Window2d{2, 2, 0}).grad_fn()->name(), "maxpool2d_cudnn");
  EXPECT_EQ(avg_pool2d(x, Window2d{3, 2, 1}).grad_fn()->name(), "avgpool2d_cudnn");
}

TEST(Conv2dCudnnGpu, MismatchedWeightIsAnErrorNamingIt) {
  LAPLEX_REQUIRE_CUDNN();
  const Tensor x = f32({1, 2, 5, 5}, 1).to(Device::cuda(0));
  try {
    conv2d(x, f32({3, 2, 3, 3}, 2), Tensor(), Window2d{3, 1, 0});  // weight on the CPU
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("weight"), std::string::npos) << e.what();
  }
}

TEST(Conv2dCudnnGpu, ForwardAndGradientsMatchCpuIm2col) {
  LAPLEX_REQUIRE_GPU();
  std::uint64_t seed = 10;
  for (const ConvCase& c : conv_cases()) {
    SCOPED_TRACE(describe(c));
    const Window2d win = c.window;
    const std::vector<Tensor> inputs = {f32({c.batch, c.in, c.height, c.width}, seed++),
                                        f32({c.out, c.in, win.kernel, win.kernel}, seed++),
                                        f32({c.out}, seed++)};
    EXPECT_TRUE(check_device_twin(
        [win](const std::vector<Tensor>& in) { return conv2d(in[0], in[1], in[2], win); }, inputs,
        {0, 1, 2}, kAtol, kRtol));
  }
}

TEST(Conv2dCudnnGpu, WithoutBiasAndWithOnlySomeGradients) {
  LAPLEX_REQUIRE_GPU();
  const Window2d win{3, 2, 1};
  const std::vector<Tensor> inputs = {f32({3, 3, 9, 8}, 40), f32({16, 3, 3, 3}, 41), f32({16}, 42)};
  auto no_bias = [win](const std::vector<Tensor>& in) { return conv2d(in[0], in[1], Tensor(), win); };
  auto with_bias = [win](const std::vector<Tensor>& in) { return conv2d(in[0], in[1], in[2], win); };
  EXPECT_TRUE(check_device_twin(no_bias, inputs, {0, 1}, kAtol, kRtol));
  EXPECT_TRUE(check_device_twin(with_bias, inputs, {1, 2}, kAtol, kRtol));  // no dx
  EXPECT_TRUE(check_device_twin(with_bias, inputs, {0}, kAtol, kRtol));     // dx only
  EXPECT_TRUE(check_device_twin(with_bias, inputs, {}, kAtol, kRtol));      // no grad at all
}

TEST(Conv2dCudnnGpu, NonContiguousInputAndAChainOfTwo) {
  LAPLEX_REQUIRE_GPU();
  const Window2d win{3, 1, 1};
  // x arrives as (B, C, W, H) and is transposed: a strided view.
  auto strided = [win](const std::vector<Tensor>& in) {
    return conv2d(transpose(in[0], 2, 3), in[1], in[2], win);
  };
  EXPECT_TRUE(check_device_twin(strided, {f32({3, 3, 7, 9}, 50), f32({5, 3, 3, 3}, 51), f32({5}, 52)},
                                {0, 1, 2}, kAtol, kRtol));
  // conv -> relu -> conv: the second conv's dx feeds the first's gradients.
  auto chain = [](const std::vector<Tensor>& in) {
    const Tensor h = relu(conv2d(in[0], in[1], in[2], Window2d{3, 1, 1}));
    return conv2d(h, in[3], Tensor(), Window2d{3, 2, 0});
  };
  EXPECT_TRUE(check_device_twin(
      chain, {f32({2, 3, 10, 10}, 53), f32({8, 3, 3, 3}, 54), f32({8}, 55), f32({4, 8, 3, 3}, 56)},
      {0, 1, 2, 3}, kAtol, kRtol));
}

TEST(Pool2dCudnnGpu, MaxAndAveragePoolsMatchCpu) {
  LAPLEX_REQUIRE_GPU();
  std::uint64_t seed = 60;
  for (const Window2d win : {Window2d{2, 2, 0}, Window2d{3, 2, 1}, Window2d{3, 1, 1},
                             Window2d{2, 1, 0}, Window2d{5, 2, 2}, Window2d{1, 1, 0}}) {
    for (const Shape& shape : {Shape{1, 1, 8, 8}, Shape{3, 3, 9, 7}, Shape{3, 16, 6, 10}}) {
      SCOPED_TRACE("kernel " + std::to_string(win.kernel) + ", stride " +
                   std::to_string(win.stride) + ", padding " + std::to_string(win.padding) +
                   ", shape " + shape_str(shape));
      EXPECT_TRUE(check_device_twin(
          [win](const std::vector<Tensor>& in) { return max_pool2d(in[0], win); },
          {f32(shape, seed++)}, {0}));
      EXPECT_TRUE(check_device_twin(
          [win](const std::vector<Tensor>& in) { return avg_pool2d(in[0], win); },
          {f32(shape, seed++)}, {0}));
    }
  }
}

// Ties are common in practice (all-zero windows after a ReLU, image pixels):
// the gradient must go to the window's first maximum, as on the CPU, and
// overlapping windows must sum in the CPU's order (bit-identical).
TEST(Pool2dCudnnGpu, MaxPoolTiesGoWhereTheCpuSendsThem) {
  LAPLEX_REQUIRE_GPU();
  std::uint64_t seed = 90;
  for (const Window2d win :
       {Window2d{2, 2, 0}, Window2d{3, 2, 1}, Window2d{3, 1, 1}, Window2d{2, 1, 0}}) {
    for (const Shape& shape : {Shape{2, 3, 8, 8}, Shape{3, 16, 9, 7}}) {
      SCOPED_TRACE("kernel " + std::to_string(win.kernel) + ", stride " +
                   std::to_string(win.stride) + ", padding " + std::to_string(win.padding) +
                   ", shape " + shape_str(shape));
      Generator generator(seed++);
      std::vector<float> levels = rand(shape, generator).to_vector<float>();
      for (float& v : levels) v = std::floor(3.0f * v);  // 0, 1 or 2: many ties
      const Tensor three_levels = Tensor::from_vector(levels, shape);
      const Tensor zeros = Tensor::zeros(shape);
      for (const Tensor& x : {three_levels, zeros})
        EXPECT_TRUE(check_device_twin(
            [win](const std::vector<Tensor>& in) { return max_pool2d(in[0], win); }, {x}, {0},
            0.0, 0.0));
    }
  }
}

// A NaN is its window's maximum and takes the window's gradient (the first
// NaN of the window when there are several), on the GPU as on the CPU.
TEST(Pool2dCudnnGpu, MaxPoolNanTakesTheGradientAsOnTheCpu) {
  LAPLEX_REQUIRE_GPU();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  std::vector<float> values(2 * 1 * 4 * 4);
  for (std::size_t i = 0; i < values.size(); ++i) values[i] = static_cast<float>(i % 5);
  values[1 * 4 + 1] = nan;  // two NaNs in the first 2x2 window of plane 0
  values[1 * 4 + 0] = nan;
  values[16 + 2 * 4 + 3] = nan;
  const Tensor x_cpu = Tensor::from_vector(values, {2, 1, 4, 4});
  for (const Window2d win : {Window2d{2, 2, 0}, Window2d{3, 1, 1}}) {
    std::vector<std::vector<float>> outputs, grads;
    for (const Device device : {Device::cpu(), Device::cuda(0)}) {
      Tensor x = x_cpu.to(device);
      x.set_requires_grad(true);
      const Tensor y = max_pool2d(x, win);
      y.backward(Tensor::ones(y.shape(), y.dtype(), y.device()));
      outputs.push_back(y.to(Device::cpu()).to_vector<float>());
      grads.push_back(x.grad().to(Device::cpu()).to_vector<float>());
    }
    ASSERT_EQ(outputs[0].size(), outputs[1].size());
    for (std::size_t i = 0; i < outputs[0].size(); ++i) {
      EXPECT_EQ(std::isnan(outputs[0][i]), std::isnan(outputs[1][i])) << "output " << i;
      if (!std::isnan(outputs[0][i])) EXPECT_EQ(outputs[0][i], outputs[1][i]) << "output " << i;
    }
    EXPECT_EQ(grads[0], grads[1]) << "kernel " << win.kernel;
  }
}

}  // namespace
}  // namespace laplex::testing
