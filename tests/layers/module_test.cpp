#include <gtest/gtest.h>

#include "core/ops/elementwise.h"
#include "layers/registry.h"
#include "layers/sequential.h"
#include "layers/summary.h"

namespace laplex {
namespace {

// y = x * scale + shift, with a buffer counting forward calls.
class Affine : public Module {
 public:
  explicit Affine(std::int64_t n) {
    scale = Tensor::ones({n});
    shift = Tensor::zeros({n});
    calls = Tensor::zeros({1});
    register_parameter("scale", &scale);
    register_parameter("shift", &shift);
    register_buffer("calls", &calls);
  }
  Tensor forward(const Tensor& x) override { return add(mul(x, scale), shift); }
  std::string type_name() const override { return "affine"; }
  Tensor scale, shift, calls;
};

const ModuleRegistration affine_registration("test_affine",
                                             [](config::ConfigNode& node, BuildContext&) {
                                               return std::make_shared<Affine>(
                                                   node.get<std::int64_t>("n"));
                                             });

std::shared_ptr<Module> build(const std::string& yaml) {
  BuildContext context;
  return build_module(config::ConfigNode(YAML::Load(yaml), "test.yaml", "model"), context);
}

TEST(Module, DottedNamesFollowSequentialIndices) {
  auto model = build("type: sequential\nlayers:\n  - {type: test_affine, n: 3}\n"
                     "  - {type: relu}\n  - {type: test_affine, n: 3}\n");
  std::vector<std::string> names;
  for (auto& [name, t] : model->named_parameters("model")) names.push_back(name);
  EXPECT_EQ(names, (std::vector<std::string>{"model.0.scale", "model.0.shift", "model.2.scale",
                                             "model.2.shift"}));
  EXPECT_EQ(model->parameter_count(), 12);
  EXPECT_EQ(model->state_dict().size(), 6u);  // with the two buffers
}

TEST(Module, UnknownKeyNamesFileAndLine) {
  try {
    build("type: sequential\nlayers:\n  - type: test_affine\n    n: 3\n    colour: red\n");
    FAIL() << "expected a UsageError";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("test.yaml:5"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("colour"), std::string::npos) << e.what();
  }
  EXPECT_THROW(build("type: nonsense\n"), UsageError);
  EXPECT_THROW(build("type: test_affine\nn: three\n"), UsageError);
}

TEST(Module, StateDictRoundTripAndMismatches) {
  auto a = build("type: sequential\nlayers: [{type: test_affine, n: 2}]\n");
  auto b = build("type: sequential\nlayers: [{type: test_affine, n: 2}]\n");
  auto state = a->state_dict();
  state["0.scale"] = Tensor::from_vector<float>({2, 3}, {2});
  b->load_state_dict(state);
  EXPECT_EQ(b->named_parameters()[0].second.to_vector<float>(), (std::vector<float>{2, 3}));

  auto wrong_shape = state;
  wrong_shape["0.scale"] = Tensor::zeros({3});
  EXPECT_THROW(b->load_state_dict(wrong_shape), UsageError);
  auto missing = state;
  missing.erase("0.shift");
  EXPECT_THROW(b->load_state_dict(missing), UsageError);
  auto extra = state;
  extra["0.bogus"] = Tensor::zeros({1});
  EXPECT_THROW(b->load_state_dict(extra), UsageError);
  // float64 converts; integers for a float parameter are refused.
  auto wide = state;
  wide["0.scale"] = Tensor::from_vector<double>({4, 5}, {2});
  b->load_state_dict(wide);
  EXPECT_EQ(b->named_parameters()[0].second.to_vector<float>(), (std::vector<float>{4, 5}));
  auto integers = state;
  integers["0.scale"] = Tensor::from_vector<std::int32_t>({4, 5}, {2});
  EXPECT_THROW(b->load_state_dict(integers), UsageError);
}

TEST(Module, TrainEvalPropagates) {
  auto model = build("type: sequential\nlayers: [{type: test_affine, n: 2}, {type: tanh}]\n");
  model->eval();
  EXPECT_FALSE(model->children()[0].second->is_training());
  model->train();
  EXPECT_TRUE(model->children()[1].second->is_training());
}

TEST(Module, SummaryListsShapesAndCounts) {
  auto model = build("type: sequential\nlayers: [{type: test_affine, n: 4}, {type: flatten}]\n");
  const auto rows = summarize(*model, {1, 4});
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].output_shape, (Shape{1, 4}));
  EXPECT_EQ(rows[0].parameters, 8);
  EXPECT_NE(format_summary(rows).find("total"), std::string::npos);
}

}  // namespace
}  // namespace laplex
