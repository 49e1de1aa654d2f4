#include "layers/laplex/laplex_layer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/autograd/grad_mode.h"
#include "core/ops/matmul.h"
#include "core/ops/reduce.h"
#include "core/ops/elementwise.h"
#include "core/ops/view.h"
#include "core/random.h"
#include "helpers/gradcheck.h"
#include "layers/registry.h"

namespace laplex {
namespace {

std::shared_ptr<Module> build(const std::string& yaml) {
  BuildContext context{3};
  return build_module(config::ConfigNode(YAML::Load(yaml), "test.yaml", "model"), context);
}

double output_variance(LaplexLayer& layer, std::int64_t batch) {
  NoGradGuard no_grad;
  Generator g(11);
  const Tensor x = randn({batch, layer.options().in}, g);
  const Tensor y = layer.forward(x);
  const Tensor centred = sub(y, mean(y, {0}, true));
  return mean(square(centred)).item();
}

TEST(LaplexLayer, NamesShapesAndParameterCount) {
  auto layer = build("{type: laplex, in: 784, out: 256, heads: 4, phased: true}");
  std::vector<std::string> names;
  for (auto& [name, t] : layer->named_parameters()) names.push_back(name);
  EXPECT_EQ(names, (std::vector<std::string>{"t", "s", "u", "v", "rho", "omega", "phi", "bias"}));
  EXPECT_EQ(layer->parameter_count(), 4 * (256 + 784 + 256 + 784 + 3) + 256);
  auto frozen = build("{type: laplex, in: 10, out: 5, gains: false, bias: false, learn_decay: false}");
  EXPECT_EQ(frozen->parameter_count(), 15);
  EXPECT_EQ(frozen->state_dict().count("rho"), 1u);  // kept as a buffer
  EXPECT_THROW(build("{type: laplex, in: 10, out: 5, anchors: spiral}"), UsageError);
  EXPECT_THROW(build("{type: laplex, in: 0, out: 5}"), UsageError);
}

// The documented claim: unit-variance i.i.d. inputs give unit-variance outputs.
TEST(LaplexLayer, InitKeepsTheInputVariance) {
  for (const char* yaml : {"{type: laplex, in: 784, out: 256, heads: 4}",
                           "{type: laplex, in: 784, out: 256, heads: 4, phased: true}",
                           "{type: laplex, in: 300, out: 700, heads: 2, anchors: random}",
                           "{type: laplex, in: 256, out: 10, heads: 1, neighbourhood: 32}",
                           "{type: laplex, in: 784, out: 256, heads: 4, anchors: shuffled}",
                           "{type: laplex, in: 3136, out: 10, heads: 4, phased: true, input_gain_std: 0.02}"}) {
    auto layer = std::dynamic_pointer_cast<LaplexLayer>(build(yaml));
    EXPECT_NEAR(output_variance(*layer, 4096), 1.0, 0.15) << yaml;
  }
}

TEST(LaplexLayer, ForwardIsTheDenseMatrixAndFlattensLeadingDims) {
  auto layer = std::dynamic_pointer_cast<LaplexLayer>(
      build("{type: laplex, in: 12, out: 7, heads: 2, phased: true}"));
  Generator g(5);
  const Tensor x = randn({3, 2, 12}, g);
  const Tensor expected = linear(x, layer->to_dense(), layer->bias);
  EXPECT_TRUE(testing::all_close(layer->forward(x), expected, 1e-5, 1e-4));
  const Tensor y = layer->forward(reshape(x, {6, 12}));
  sum(y).backward();
  for (auto& [name, p] : layer->named_parameters())
    EXPECT_TRUE(p.grad().defined()) << name;
}

// input_gain_std moves W's scale from v to u and leaves W itself unchanged.
TEST(LaplexLayer, InputGainStdSplitsTheScaleBetweenTheGains) {
  auto plain = std::dynamic_pointer_cast<LaplexLayer>(
      build("{type: laplex, in: 60, out: 9, heads: 2, phased: true}"));
  auto small = std::dynamic_pointer_cast<LaplexLayer>(
      build("{type: laplex, in: 60, out: 9, heads: 2, phased: true, input_gain_std: 0.02}"));
  EXPECT_TRUE(testing::all_close(small->v, mul(plain->v, 0.02), 1e-6, 1e-6));
  EXPECT_TRUE(testing::all_close(small->u, mul(plain->u, 50.0), 1e-5, 1e-5));
  EXPECT_TRUE(testing::all_close(small->to_dense(), plain->to_dense(), 1e-5, 1e-5));
  EXPECT_THROW(build("{type: laplex, in: 10, out: 5, input_gain_std: 0}"), UsageError);
  EXPECT_THROW(build("{type: laplex, in: 10, out: 5, input_gain_std: -1}"), UsageError);
}

// `shuffled`: the grid's positions, each head with its own order of inputs.
TEST(LaplexLayer, ShuffledAnchorsPermuteTheGridPerHead) {
  auto grid = std::dynamic_pointer_cast<LaplexLayer>(
      build("{type: laplex, in: 50, out: 5, heads: 3}"));
  auto shuffled = std::dynamic_pointer_cast<LaplexLayer>(
      build("{type: laplex, in: 50, out: 5, heads: 3, anchors: shuffled}"));
  EXPECT_TRUE(testing::all_close(shuffled->t, grid->t, 0, 0));
  const auto s = shuffled->s.to_vector<float>(), g = grid->s.to_vector<float>();
  std::vector<std::vector<float>> heads;
  for (int h = 0; h < 3; ++h) {
    std::vector<float> head(s.begin() + h * 50, s.begin() + (h + 1) * 50);
    std::vector<float> sorted = head;
    std::sort(sorted.begin(), sorted.end());
    EXPECT_EQ(sorted, std::vector<float>(g.begin(), g.begin() + 50)) << "head " << h;
    EXPECT_NE(head, sorted) << "head " << h << " kept the grid order";
    heads.push_back(head);
  }
  EXPECT_NE(heads[0], heads[1]);
  EXPECT_NE(heads[1], heads[2]);
}

// Sizes whose element counts overflow (heads = 2^62 once allocated 0
// bytes and crashed) and decays or gains that overflow float32 are config
// errors naming their key.
// Head h starts at alpha = in / (neighbourhood 2^h): past about a thousand
// heads that underflowed to 0, rho started at -inf and the first steps ran
// on NaN. The floor keeps every head's decay finite and positive.
TEST(LaplexLayer, ManyHeadsStartWithFiniteDecays) {
  const auto layer = build("{type: laplex, in: 8, out: 4, heads: 1100}");
  const auto state = layer->state_dict();
  const std::vector<float> rho = state.at("rho").to_vector<float>();
  ASSERT_EQ(rho.size(), 1100u);
  for (std::size_t h = 0; h < rho.size(); ++h) ASSERT_TRUE(std::isfinite(rho[h])) << h;
  EXPECT_GT(rho[0], rho[40]);  // the scales still spread geometrically
  NoGradGuard no_grad;
  const auto y = layer->forward(Tensor::ones({2, 8})).to_vector<float>();
  for (float v : y) EXPECT_TRUE(std::isfinite(v));
}

TEST(LaplexLayer, YamlSizesAndScalesOutOfRangeNameTheirKey) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"{type: laplex, in: 8, out: 4, heads: 4611686018427387904}", "heads"},
      {"{type: laplex, in: 8, out: 4611686018427387904}", "out"},
      {"{type: laplex, in: 2147483648, out: 4}", "in"},
      {"{type: laplex, in: 8, out: 4, neighbourhood: .inf}", "neighbourhood"},
      {"{type: laplex, in: 8, out: 4, neighbourhood: 1e-300}", "neighbourhood"},
      {"{type: laplex, in: 8, out: 4, input_gain_std: 1e-300}", "input_gain_std"},
  };
  for (const auto& [yaml, key] : cases) {
    try {
      build(yaml);
      ADD_FAILURE() << yaml << " was accepted";
    } catch (const UsageError& e) {
      EXPECT_NE(std::string(e.what()).find(key), std::string::npos) << yaml << ": " << e.what();
    }
  }
}

}  // namespace
}  // namespace laplex
