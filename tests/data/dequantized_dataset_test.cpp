#include "data/dequantized_dataset.h"

#include <gtest/gtest.h>

#include <cmath>

#include "data/tensor_dataset.h"

namespace laplex::data {
namespace {

std::shared_ptr<const Dataset> pixels() {
  std::vector<float> values(3 * 10);
  for (std::size_t i = 0; i < values.size(); ++i) values[i] = static_cast<float>((i * 37) % 256);
  return std::make_shared<TensorDataset>(Tensor::from_vector(values, {3, 10}));
}

std::vector<float> read(const Dataset& d, std::int64_t index, std::int64_t epoch) {
  std::vector<float> out(d.example_numel());
  d.read(index, epoch, out.data(), nullptr);
  return out;
}

TEST(DequantizedDataset, EachValueLandsInItsOwnBinOfWidthOneOver256) {
  const auto base = pixels();
  const UniformDequantizedDataset d(base, 7, false);
  for (std::int64_t i = 0; i < 3; ++i) {
    const auto p = read(*base, i, 0), x = read(d, i, 0);
    for (std::size_t k = 0; k < p.size(); ++k) {
      EXPECT_GE(x[k], p[k] / 256.0f);
      EXPECT_LT(x[k], (p[k] + 1.0f) / 256.0f);
    }
  }
}

TEST(DequantizedDataset, NoiseIsFreshPerEpochUnlessFixedAndAlwaysReproducible) {
  const auto base = pixels();
  const UniformDequantizedDataset train(base, 7, false), test(base, 7, true);
  EXPECT_EQ(read(train, 1, 3), read(train, 1, 3));
  EXPECT_NE(read(train, 1, 3), read(train, 1, 4));
  EXPECT_NE(read(train, 1, 3), read(train, 2, 3) );
  EXPECT_EQ(read(test, 1, 3), read(test, 1, 9));
  EXPECT_NE(read(UniformDequantizedDataset(base, 8, true), 1, 0), read(test, 1, 0));
}

TEST(DequantizedDataset, NoiseIsUniformOnAverage) {
  std::vector<float> zeros(4000, 0.0f);
  const auto base = std::make_shared<TensorDataset>(Tensor::from_vector(zeros, {1, 4000}));
  const auto x = read(UniformDequantizedDataset(base, 1, false), 0, 0);
  double mean = 0.0;
  for (float v : x) mean += v * 256.0 / static_cast<double>(x.size());
  EXPECT_NEAR(mean, 0.5, 0.03);  // 4000 draws: standard error 0.0046
}

}  // namespace
}  // namespace laplex::data
