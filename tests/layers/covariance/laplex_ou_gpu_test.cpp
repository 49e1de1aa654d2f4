// LAPLEX-OU on CUDA (composed engine ops) against the CPU fused kernel and
// the CPU composed ops: NLL and every gradient. Skips without a GPU.
#include <gtest/gtest.h>

#include "helpers/device_twin.h"
#include "helpers/gradcheck.h"
#include "layers/covariance/laplex_ou.h"
#include "layers/covariance/ou_nll_composed.h"
#include "layers/covariance/ou_nll_fused.h"

namespace laplex::testing {
namespace {

Tensor f32(const Shape& shape, std::uint64_t seed, double lo = -1, double hi = 1) {
  return random_tensor(shape, seed, lo, hi).to(DType::f32);
}

TEST(LaplexOuGpu, ComposedOpsMatchCpu) {
  LAPLEX_REQUIRE_GPU();
  const std::int64_t n = 3000;
  const std::vector<Tensor> inputs{f32({4, n}, 1), f32({n}, 2), f32({n}, 3, -100, 100), f32({n}, 4),
                                   f32({1}, 5)};
  auto composed = [](const std::vector<Tensor>& in) {
    return ou_nll_composed(in[0], {in[1], in[2], in[3], in[4]});
  };
  EXPECT_TRUE(check_device_twin(composed, inputs, {0, 1, 2, 3, 4}, 1e-3, 1e-4));
}

TEST(LaplexOuGpu, ModelOnCudaMatchesFusedCpuAndSamples) {
  LAPLEX_REQUIRE_GPU();
  LaplexOuOptions o;
  o.dims = 500;
  o.anchors = "random";
  LaplexOu cpu(o, 3), gpu(o, 3);
  gpu.to(Device::cuda(0));
  const Tensor x = f32({3, 500}, 7);
  const auto want = cpu.nll(x).to_vector<double>();
  const auto got = gpu.nll(x.to(Device::cuda(0))).to_vector<double>();
  for (std::size_t b = 0; b < want.size(); ++b)
    EXPECT_NEAR(got[b], want[b], 1e-4 * std::abs(want[b]));
  Generator g(1);
  EXPECT_EQ(gpu.sample(2, g).device(), Device::cuda(0));
  EXPECT_EQ(gpu.covariance_row(10).device(), Device::cuda(0));
}

}  // namespace
}  // namespace laplex::testing
