// Every engine op on cuda:0 against its CPU twin (label gpu).
#include <gtest/gtest.h>

#include "core/ops/elementwise.h"
#include "core/ops/loss.h"
#include "core/ops/matmul.h"
#include "core/ops/reduce.h"
#include "core/ops/view.h"
#include "core/random.h"
#include "helpers/device_twin.h"
#include "helpers/gradcheck.h"

namespace laplex {
namespace {

using testing::check_device_twin;

Tensor f32(const Shape& shape, std::uint64_t seed, double lo = -1, double hi = 1) {
  return testing::random_tensor(shape, seed, lo, hi).to(DType::f32);
}

TEST(OpsGpu, UnaryElementwise) {
  LAPLEX_REQUIRE_GPU();
  using F = Tensor (*)(const Tensor&);
  for (F f : {static_cast<F>(neg), static_cast<F>(exp), static_cast<F>(abs),
              static_cast<F>(relu), static_cast<F>(gelu), static_cast<F>(tanh),
              static_cast<F>(sigmoid), static_cast<F>(softplus), static_cast<F>(expm1),
              static_cast<F>(square)})
    EXPECT_TRUE(check_device_twin([f](const auto& in) { return f(in[0]); }, {f32({7, 33}, 1)}, {0}));
  EXPECT_TRUE(check_device_twin([](const auto& in) { return log(in[0]); }, {f32({50}, 2, 0.5, 2)}, {0}));
  EXPECT_TRUE(check_device_twin([](const auto& in) { return sqrt(in[0]); }, {f32({50}, 3, 0.5, 2)}, {0}));
  EXPECT_TRUE(check_device_twin([](const auto& in) { return clamp(in[0], -0.3, 0.4); },
                                {f32({50}, 4)}, {0}));
}

TEST(OpsGpu, BinaryBroadcastAndStrided) {
  LAPLEX_REQUIRE_GPU();
  using F = Tensor (*)(const Tensor&, const Tensor&);
  for (F f : {static_cast<F>(add), static_cast<F>(sub), static_cast<F>(mul), static_cast<F>(div),
              static_cast<F>(maximum), static_cast<F>(minimum)}) {
    EXPECT_TRUE(check_device_twin([f](const auto& in) { return f(in[0], in[1]); },
                                  {f32({4, 5, 6}, 1), f32({5, 1}, 2, 0.5, 2)}, {0, 1}));
    EXPECT_TRUE(check_device_twin(
        [f](const auto& in) { return f(transpose(in[0], 0, 1), in[1]); },
        {f32({6, 4}, 3), f32({4, 6}, 4, 0.5, 2)}, {0, 1}));
  }
  EXPECT_TRUE(check_device_twin([](const auto& in) { return where(gt(in[0], 0.0), in[0], in[1]); },
                                {f32({3, 8}, 5), f32({8}, 6)}, {0, 1}));
}

TEST(OpsGpu, Reductions) {
  LAPLEX_REQUIRE_GPU();
  const Tensor x = f32({5, 6, 7}, 1);
  EXPECT_TRUE(check_device_twin([](const auto& in) { return sum(in[0]); }, {x}, {0}));
  EXPECT_TRUE(check_device_twin([](const auto& in) { return sum(in[0], {1}); }, {x}, {0}));
  EXPECT_TRUE(check_device_twin([](const auto& in) { return mean(in[0], {0, 2}, true); }, {x}, {0}));
  EXPECT_TRUE(check_device_twin([](const auto& in) { return max(in[0], 2); }, {x}, {0}));
  EXPECT_TRUE(check_device_twin([](const auto& in) { return cumsum(in[0], 1); }, {x}, {0}));
  EXPECT_TRUE(check_device_twin([](const auto& in) { return argmax(in[0], 1).to(DType::f32); }, {x}, {}));
  EXPECT_TRUE(check_device_twin([](const auto& in) { return sum(in[0], {1}); },
                                {f32({3, 100000}, 2)}, {0}, 1e-3, 1e-4));
}

TEST(OpsGpu, MatmulLinearLosses) {
  LAPLEX_REQUIRE_GPU();
  EXPECT_TRUE(check_device_twin([](const auto& in) { return matmul(in[0], in[1]); },
                                {f32({33, 17}, 1), f32({17, 9}, 2)}, {0, 1}));
  EXPECT_TRUE(check_device_twin([](const auto& in) { return matmul(in[0], transpose(in[1], 0, 1)); },
                                {f32({33, 17}, 3), f32({9, 17}, 4)}, {0, 1}));
  EXPECT_TRUE(check_device_twin([](const auto& in) { return matmul(in[0], in[1]); },
                                {f32({3, 8, 5}, 5), f32({3, 5, 4}, 6)}, {0, 1}));
  EXPECT_TRUE(check_device_twin([](const auto& in) { return linear(in[0], in[1], in[2]); },
                                {f32({16, 12}, 7), f32({10, 12}, 8), f32({10}, 9)}, {0, 1, 2}));
  // Empty sides: cuBLAS refuses a leading dimension of 0, the CPU gives the
  // empty result; both must.
  EXPECT_TRUE(check_device_twin([](const auto& in) { return matmul(in[0], in[1]); },
                                {f32({4, 3}, 12), f32({3, 0}, 13)}, {0, 1}));
  EXPECT_TRUE(check_device_twin([](const auto& in) { return matmul(in[0], in[1]); },
                                {f32({2, 4, 3}, 14), f32({2, 3, 0}, 15)}, {0, 1}));
  EXPECT_TRUE(check_device_twin([](const auto& in) { return linear(in[0], in[1], Tensor()); },
                                {f32({4, 3}, 16), f32({0, 3}, 17)}, {0, 1}));
  EXPECT_TRUE(check_device_twin([](const auto& in) { return log_softmax(in[0], 1); },
                                {f32({6, 300}, 10, -5, 5)}, {0}));
  const Tensor targets = Tensor::from_vector<std::int64_t>({0, 3, 9, 2, 2, 7}, {6});
  EXPECT_TRUE(check_device_twin(
      [](const auto& in) { return cross_entropy(in[0], in[1], 0.1); },
      {f32({6, 10}, 11, -3, 3), targets}, {0}));
  EXPECT_TRUE(check_device_twin([](const auto& in) { return mse(in[0], in[1]); },
                                {f32({40}, 12), f32({40}, 13)}, {0, 1}));
}

TEST(OpsGpu, RandomIsIdenticalOnBothDevices) {
  LAPLEX_REQUIRE_GPU();
  Generator a(7), b(7);
  EXPECT_EQ(randn({1000}, a).to_vector<float>(),
            randn({1000}, b, DType::f32, Device::cuda(0)).to_vector<float>());
  EXPECT_EQ(rand({1000}, a, DType::f64).to_vector<double>(),
            rand({1000}, b, DType::f64, Device::cuda(0)).to_vector<double>());
}

}  // namespace
}  // namespace laplex
