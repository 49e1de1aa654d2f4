#include <gtest/gtest.h>

#include "core/ops/matmul.h"
#include "core/ops/reduce.h"
#include "core/ops/elementwise.h"
#include "core/ops/view.h"
#include "core/random.h"
#include "helpers/gradcheck.h"
#include "layers/linear.h"
#include "layers/lowrank.h"
#include "layers/registry.h"

namespace laplex {
namespace {

std::shared_ptr<Module> build(const std::string& yaml, std::uint64_t seed = 0) {
  BuildContext context{seed};
  return build_module(config::ConfigNode(YAML::Load(yaml), "test.yaml", "model"), context);
}

TEST(LinearLayer, ShapesCountsAndSeededInit) {
  auto a = build("{type: linear, in: 784, out: 256}", 1);
  auto b = build("{type: linear, in: 784, out: 256}", 1);
  auto c = build("{type: linear, in: 784, out: 256}", 2);
  EXPECT_EQ(a->parameter_count(), 784 * 256 + 256);
  EXPECT_EQ(a->named_parameters()[0].second.to_vector<float>(),
            b->named_parameters()[0].second.to_vector<float>());
  EXPECT_NE(a->named_parameters()[0].second.to_vector<float>(),
            c->named_parameters()[0].second.to_vector<float>());
  const auto w = a->named_parameters()[0].second.to_vector<float>();
  for (float v : w) ASSERT_LE(std::fabs(v), 1.0f / 28.0f + 1e-6f);
  EXPECT_EQ(build("{type: linear, in: 3, out: 2, bias: false}")->parameter_count(), 6);
  EXPECT_THROW(build("{type: linear, in: 0, out: 2}"), UsageError);
}

// A bad size is a config error naming the key, not the constructor's bare message.
TEST(LowRankLayer, BadSizesNameTheirKey) {
  for (const char* key : {"in", "out", "rank"}) {
    std::string yaml = "{type: lowrank, in: 8, out: 4, rank: 2}";
    yaml.replace(yaml.find(std::string(key) + ": ") + std::string(key).size() + 2, 1, "0");
    try {
      build(yaml);
      ADD_FAILURE() << yaml << " was accepted";
    } catch (const UsageError& e) {
      EXPECT_NE(std::string(e.what()).find(std::string("model.") + key), std::string::npos) << e.what();
    }
  }
}

TEST(LowRankLayer, EqualsDenseProductAndMatchesLinearInitVariance) {
  LowRank layer(300, 200, 16, true, 3);
  EXPECT_EQ(layer.parameter_count(), (300 + 200) * 16 + 200);
  Generator g(5);
  const Tensor x = randn({3, 300}, g);
  const Tensor w = matmul(layer.u, transpose(layer.v, 0, 1));  // (out, in)
  EXPECT_TRUE(testing::all_close(layer.forward(x), linear(x, w, layer.bias), 1e-5, 1e-4));
  const auto values = w.to_vector<double>();
  double sum_sq = 0;
  for (double v : values) sum_sq += v * v;
  EXPECT_NEAR(sum_sq / values.size() * 3 * 300, 1.0, 0.1);  // var(W) = 1 / (3 in)
  EXPECT_TRUE(testing::gradcheck(
      [](const auto& in) { return linear(matmul(in[0], in[2]), in[1], in[3]); },
      {testing::random_tensor({3, 5}, 1), testing::random_tensor({4, 2}, 2),
       testing::random_tensor({5, 2}, 3), testing::random_tensor({4}, 4)}));
}

}  // namespace
}  // namespace laplex
