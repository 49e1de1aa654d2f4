// CUDA twins of the FFT ops and layers: the same inputs on the CPU (FFTW)
// and the GPU (cuFFT) must agree. Skips without a GPU.
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <utility>
#include <vector>

#include "core/device.h"
#include "core/ops/complex.h"
#include "core/ops/elementwise.h"
#include "core/ops/fft.h"
#include "core/ops/reduce.h"
#include "core/ops/view.h"
#include "helpers/gradcheck.h"
#include "layers/fft/fft_circulant.h"
#include "layers/fft/fft_diag.h"

namespace laplex {
namespace {

using testing::all_close;
using testing::random_tensor;

double tolerance(DType dtype) { return dtype == DType::f32 ? 1e-4 : 1e-11; }

TEST(FftGpu, RfftAndIrfftMatchCpu) {
  if (!cuda_available()) GTEST_SKIP() << "no CUDA device";
  for (DType dtype : {DType::f32, DType::f64}) {
    for (std::int64_t n : {1, 2, 7, 8, 100, 784, 1024}) {
      const Tensor x = random_tensor({3, 5, n}, n).to(dtype);
      const Tensor X = rfft(x);
      const Tensor X_gpu = rfft(x.to(Device::cuda()));
      EXPECT_TRUE(all_close(X_gpu.to(Device::cpu()), X, tolerance(dtype), tolerance(dtype)))
          << dtype_name(dtype) << " n = " << n;
      // Imaginary DC/Nyquist parts that a real signal cannot have are ignored on both.
      const Tensor S = random_tensor({4, n / 2 + 1, 2}, 3 * n).to(dtype);
      EXPECT_TRUE(all_close(irfft(S.to(Device::cuda()), n).to(Device::cpu()), irfft(S, n),
                            tolerance(dtype), tolerance(dtype)))
          << dtype_name(dtype) << " n = " << n;
    }
  }
}

TEST(FftGpu, PaddingStridesAndChangingBatches) {
  if (!cuda_available()) GTEST_SKIP() << "no CUDA device";
  const Tensor base = random_tensor({12, 10}, 5);
  const Tensor base_gpu = base.to(Device::cuda());
  // Zero padding, a transposed view, and an offset view; then other batch
  // sizes so several cached plans of the same length are used.
  EXPECT_TRUE(all_close(rfft(base_gpu, 16).to(Device::cpu()), rfft(base, 16), 1e-11, 1e-11));
  EXPECT_TRUE(all_close(rfft(transpose(base_gpu, 0, 1), 12).to(Device::cpu()),
                        rfft(transpose(base, 0, 1), 12), 1e-11, 1e-11));
  for (std::int64_t rows : {1, 3, 7}) {
    const Tensor part = slice(base, 0, 2, 2 + rows);
    EXPECT_TRUE(all_close(rfft(slice(base_gpu, 0, 2, 2 + rows)).to(Device::cpu()), rfft(part),
                          1e-11, 1e-11));
  }
  const Tensor S = random_tensor({3, 6, 2}, 6);
  const Tensor S_gpu = S.to(Device::cuda());
  irfft(S_gpu, 10);
  EXPECT_TRUE(all_close(S_gpu.to(Device::cpu()), S, 0, 0));  // inputs left alone
  rfft(base_gpu);
  EXPECT_TRUE(all_close(base_gpu.to(Device::cpu()), base, 0, 0));
}

TEST(FftGpu, ComplexMulMatchesCpu) {
  if (!cuda_available()) GTEST_SKIP() << "no CUDA device";
  const Tensor a = random_tensor({4, 9, 2}, 7), b = random_tensor({9, 2}, 8);
  EXPECT_TRUE(all_close(complex_mul(a.to(Device::cuda()), b.to(Device::cuda())).to(Device::cpu()),
                        complex_mul(a, b), 1e-13, 1e-13));
  const Tensor c = random_tensor({4, 1, 2}, 9), d = random_tensor({1, 9, 2}, 10);
  EXPECT_TRUE(all_close(complex_mul(c.to(Device::cuda()), d.to(Device::cuda())).to(Device::cpu()),
                        complex_mul(c, d), 1e-13, 1e-13));
}

// Gradients of the inputs of f through a random projection, on one device.
std::vector<Tensor> gradients(const std::function<Tensor(const std::vector<Tensor>&)>& f,
                              std::vector<Tensor> inputs, Device device) {
  for (auto& t : inputs) t = t.to(device).set_requires_grad(true);
  const Tensor y = f(inputs);
  const Tensor w = random_tensor(y.shape(), 99).to(device);
  sum(mul(y, w)).backward();
  std::vector<Tensor> out;
  for (auto& t : inputs) out.push_back(t.grad().to(Device::cpu()));
  return out;
}

TEST(FftGpu, BackwardsMatchCpu) {
  if (!cuda_available()) GTEST_SKIP() << "no CUDA device";
  for (std::int64_t n : {7, 8}) {
    auto f = [n](const std::vector<Tensor>& p) { return rfft(p[0], n); };
    const std::vector<Tensor> x{random_tensor({3, 5}, 11)};
    EXPECT_TRUE(all_close(gradients(f, x, Device::cuda())[0], gradients(f, x, Device::cpu())[0],
                          1e-11, 1e-11));
    auto g = [n](const std::vector<Tensor>& p) { return irfft(p[0], n); };
    const std::vector<Tensor> S{random_tensor({3, n / 2 + 1, 2}, 12)};
    EXPECT_TRUE(all_close(gradients(g, S, Device::cuda())[0], gradients(g, S, Device::cpu())[0],
                          1e-11, 1e-11));
  }
}

TEST(FftGpu, LayersMatchCpu) {
  if (!cuda_available()) GTEST_SKIP() << "no CUDA device";
  for (auto [in, out] : {std::pair<std::int64_t, std::int64_t>{784, 256}, {100, 300}}) {
    const std::int64_t L = std::max(in, out);
    auto f = [L, out](const std::vector<Tensor>& p) {
      return fft_diag(p[0], p[1], p[2], p[3], p[4], L, out);
    };
    const std::vector<Tensor> inputs{random_tensor({16, in}, 20), random_tensor({L}, 21),
                                     random_tensor({2, L / 2 + 1, 2}, 22),
                                     random_tensor({2, L}, 23), random_tensor({out}, 24)};
    const auto cpu = gradients(f, inputs, Device::cpu());
    const auto gpu = gradients(f, inputs, Device::cuda());
    for (std::size_t k = 0; k < cpu.size(); ++k)
      EXPECT_TRUE(all_close(gpu[k], cpu[k], 1e-10, 1e-10)) << "input " << k;

    // The float32 module, moved to the GPU, gives the CPU module's outputs.
    FftCirculant cpu_layer(in, out, true, 3, 0), gpu_layer(in, out, true, 3, 0);
    gpu_layer.to(Device::cuda());
    const Tensor x = random_tensor({8, in}, 25).to(DType::f32);
    EXPECT_TRUE(all_close(gpu_layer(x.to(Device::cuda())).to(Device::cpu()), cpu_layer(x), 1e-4,
                          1e-4));
  }
}

}  // namespace
}  // namespace laplex
