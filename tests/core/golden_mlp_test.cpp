// laplex against PyTorch on a fixed MLP: forward, loss and every gradient
// (tests/golden/mlp_golden.json, written by scripts/golden_mlp.py).
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/ops/elementwise.h"
#include "core/ops/loss.h"
#include "core/ops/matmul.h"

namespace laplex {
namespace {

Tensor load(const nlohmann::json& j, const char* key, const Shape& shape) {
  const auto values = j[key].get<std::vector<double>>();
  return Tensor::from_vector(values, shape).to(DType::f32);
}

void expect_close(const Tensor& got, const nlohmann::json& want, const char* what) {
  const auto g = got.to_vector<double>();
  const auto w = want.get<std::vector<double>>();
  ASSERT_EQ(g.size(), w.size()) << what;
  for (std::size_t i = 0; i < g.size(); ++i)
    EXPECT_NEAR(g[i], w[i], 1e-5 * std::fabs(w[i]) + 1e-7) << what << "[" << i << "]";
}

TEST(GoldenMlp, MatchesPyTorch) {
  std::ifstream in(std::string(LAPLEX_SOURCE_DIR) + "/tests/golden/mlp_golden.json");
  ASSERT_TRUE(in) << "missing tests/golden/mlp_golden.json";
  const auto j = nlohmann::json::parse(in);
  const std::int64_t batch = j["shapes"]["batch"], d_in = j["shapes"]["in"],
                     hidden = j["shapes"]["hidden"], d_out = j["shapes"]["out"];
  Tensor x = load(j, "x", {batch, d_in}), w1 = load(j, "w1", {hidden, d_in}),
         b1 = load(j, "b1", {hidden}), w2 = load(j, "w2", {d_out, hidden}),
         b2 = load(j, "b2", {d_out});
  for (Tensor* t : {&x, &w1, &b1, &w2, &b2}) t->set_requires_grad(true);
  const Tensor targets = Tensor::from_vector(j["targets"].get<std::vector<std::int64_t>>(), {batch});

  const Tensor logits = linear(relu(linear(x, w1, b1)), w2, b2);
  const Tensor loss = cross_entropy(logits, targets, j["label_smoothing"].get<double>());
  loss.backward();

  expect_close(logits, j["logits"], "logits");
  EXPECT_NEAR(loss.item(), j["loss"].get<double>(), 1e-5 * std::fabs(j["loss"].get<double>()));
  expect_close(x.grad(), j["grad_x"], "grad_x");
  expect_close(w1.grad(), j["grad_w1"], "grad_w1");
  expect_close(b1.grad(), j["grad_b1"], "grad_b1");
  expect_close(w2.grad(), j["grad_w2"], "grad_w2");
  expect_close(b2.grad(), j["grad_b2"], "grad_b2");
}

}  // namespace
}  // namespace laplex
