// conv2d, pooling, batchnorm, layernorm and dropout on CUDA against their
// CPU twins: outputs and input gradients. Skips without a GPU.
#include <gtest/gtest.h>

#include "core/ops/elementwise.h"
#include "helpers/device_twin.h"
#include "helpers/gradcheck.h"
#include "layers/conv/conv2d.h"
#include "layers/conv/pool.h"
#include "layers/dropout.h"
#include "layers/norm/batchnorm.h"
#include "layers/norm/layernorm.h"

namespace laplex::testing {
namespace {

Tensor f32(const Shape& shape, std::uint64_t seed) { return random_tensor(shape, seed).to(DType::f32); }

TEST(ConvNormGpu, Conv2dMatchesCpu) {
  LAPLEX_REQUIRE_GPU();
  const Window2d win{3, 2, 1};
  EXPECT_TRUE(check_device_twin(
      [win](const std::vector<Tensor>& in) { return conv2d(in[0], in[1], in[2], win); },
      {f32({4, 3, 12, 10}, 1), f32({8, 3, 3, 3}, 2), f32({8}, 3)}, {0, 1, 2}));
}

TEST(ConvNormGpu, PoolsMatchCpu) {
  LAPLEX_REQUIRE_GPU();
  for (const Window2d win : {Window2d{2, 2, 0}, Window2d{3, 2, 1}}) {
    EXPECT_TRUE(check_device_twin(
        [win](const std::vector<Tensor>& in) { return max_pool2d(in[0], win); },
        {f32({2, 3, 9, 8}, 4)}, {0}));
    EXPECT_TRUE(check_device_twin(
        [win](const std::vector<Tensor>& in) { return avg_pool2d(in[0], win); },
        {f32({2, 3, 9, 8}, 5)}, {0}));
  }
}

TEST(ConvNormGpu, NormsMatchCpu) {
  LAPLEX_REQUIRE_GPU();
  for (int dims : {1, 2}) {
    auto batchnorm = [dims](const std::vector<Tensor>& in) {
      BatchNorm bn({3, dims, 1e-5, 0.1, true});
      bn.weight = in[1];
      bn.bias = in[2];
      bn.running_mean = Tensor::zeros({3}, DType::f32, in[0].device());
      bn.running_var = Tensor::ones({3}, DType::f32, in[0].device());
      return bn.forward(in[0]);
    };
    const Shape shape = dims == 2 ? Shape{4, 3, 5, 5} : Shape{16, 3};
    EXPECT_TRUE(check_device_twin(batchnorm, {f32(shape, 6), f32({3}, 7), f32({3}, 8)}, {0, 1, 2}));
  }
  auto layernorm = [](const std::vector<Tensor>& in) {
    LayerNorm ln(6, 1e-5, true);
    ln.weight = in[1];
    ln.bias = in[2];
    return ln.forward(in[0]);
  };
  EXPECT_TRUE(check_device_twin(layernorm, {f32({5, 6}, 9), f32({6}, 10), f32({6}, 11)}, {0, 1, 2}));
}

TEST(ConvNormGpu, DropoutMasksAreTheSameOnBothDevices) {
  LAPLEX_REQUIRE_GPU();
  EXPECT_TRUE(check_device_twin(
      [](const std::vector<Tensor>& in) { return Dropout(0.3, 5).forward(in[0]); },
      {f32({64, 33}, 12)}, {0}, 0, 0));
}

}  // namespace
}  // namespace laplex::testing
