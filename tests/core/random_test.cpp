#include "core/random.h"

#include <gtest/gtest.h>

#include <cmath>

#include "core/philox.h"

namespace laplex {
namespace {

TEST(Philox, KnownAnswer) {
  // Philox4x32-10 with key 0 and counter 0 (Random123's known-answer test).
  const philox::Block b = philox::generate(0, 0);
  EXPECT_EQ(b.v[0], 0x6627e8d5u);
  EXPECT_EQ(b.v[1], 0xe169c58du);
  EXPECT_EQ(b.v[2], 0xbc57ac4cu);
  EXPECT_EQ(b.v[3], 0x9b00dbd8u);
}

TEST(Random, MomentsAndDeterminism) {
  Generator g(42);
  const Tensor u = rand({100000}, g, DType::f64);
  const Tensor z = randn({100000}, g, DType::f64);
  double su = 0, sz = 0, szz = 0;
  for (double v : u.to_vector<double>()) {
    su += v;
    ASSERT_TRUE(v >= 0 && v < 1);
  }
  for (double v : z.to_vector<double>()) {
    sz += v;
    szz += v * v;
  }
  EXPECT_NEAR(su / 1e5, 0.5, 0.005);
  EXPECT_NEAR(sz / 1e5, 0.0, 0.02);
  EXPECT_NEAR(szz / 1e5, 1.0, 0.02);
  EXPECT_EQ(g.offset(), 200000u);

  Generator again(42);
  EXPECT_EQ(rand({100000}, again, DType::f64).to_vector<double>(), u.to_vector<double>());
  Generator resumed(42, 100000);  // saved state (seed, offset)
  EXPECT_EQ(randn({100000}, resumed, DType::f64).to_vector<double>(), z.to_vector<double>());
}

}  // namespace
}  // namespace laplex
