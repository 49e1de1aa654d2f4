// concat/stack, gather/index_select/scatter_add and sort/argsort on cuda:0
// against their CPU twins (label gpu): outputs and input gradients.
#include <gtest/gtest.h>

#include <cmath>

#include "core/ops/index.h"
#include "core/ops/join.h"
#include "core/ops/sort.h"
#include "core/ops/view.h"
#include "helpers/device_twin.h"
#include "helpers/gradcheck.h"

namespace laplex {
namespace {

using testing::check_device_twin;

Tensor f32(const Shape& shape, std::uint64_t seed) {
  return testing::random_tensor(shape, seed).to(DType::f32);
}

// Indices uniform in [0, size), as int64 (or int32).
Tensor indices(const Shape& shape, std::int64_t size, std::uint64_t seed,
               DType dtype = DType::i64) {
  const auto u =
      testing::random_tensor(shape, seed, 0, static_cast<double>(size)).to_vector<double>();
  std::vector<std::int64_t> v(u.size());
  for (std::size_t k = 0; k < u.size(); ++k) v[k] = static_cast<std::int64_t>(std::floor(u[k]));
  return Tensor::from_vector(v, shape).to(dtype);
}

TEST(JoinIndexSortGpu, Concat) {
  LAPLEX_REQUIRE_GPU();
  const std::vector<Tensor> in{f32({3, 4, 5}, 1), f32({3, 2, 5}, 2), f32({3, 7, 5}, 3)};
  EXPECT_TRUE(check_device_twin(
      [](const auto& t) { return concat({t[0], t[1], t[2]}, 1); }, in, {0, 1, 2}));
  EXPECT_TRUE(check_device_twin(
      [](const auto& t) { return concat({transpose(t[0], 0, 2), t[1]}, 0); },
      {f32({2, 3, 4}, 4), f32({6, 3, 2}, 5)}, {0, 1}));
}

TEST(JoinIndexSortGpu, Stack) {
  LAPLEX_REQUIRE_GPU();
  for (std::int64_t dim : {0, 1, 2})
    EXPECT_TRUE(check_device_twin(
        [dim](const auto& t) { return stack({t[0], transpose(t[1], 0, 1), t[0]}, dim); },
        {f32({4, 6}, 6), f32({6, 4}, 7)}, {0, 1}));
}

TEST(JoinIndexSortGpu, Gather) {
  LAPLEX_REQUIRE_GPU();
  const Tensor x = f32({5, 6, 7}, 1);
  for (std::int64_t dim : {0, 1, 2}) {
    Shape shape{4, 5, 6};
    EXPECT_TRUE(check_device_twin([dim](const auto& t) { return gather(t[0], dim, t[1]); },
                                  {x, indices(shape, x.shape()[dim], 10 + dim)}, {0}));
  }
  // int32 indices and strided operands.
  EXPECT_TRUE(check_device_twin(
      [](const auto& t) { return gather(transpose(t[0], 0, 1), 1, transpose(t[1], 0, 1)); },
      {f32({9, 8}, 2), indices({9, 8}, 9, 13, DType::i32)}, {0}));
}

TEST(JoinIndexSortGpu, IndexSelect) {
  LAPLEX_REQUIRE_GPU();
  const Tensor x = f32({6, 5, 4}, 1);
  for (std::int64_t dim : {0, 1, 2})
    EXPECT_TRUE(check_device_twin([dim](const auto& t) { return index_select(t[0], dim, t[1]); },
                                  {x, indices({11}, x.shape()[dim], 20 + dim)}, {0}));
  // An embedding-sized lookup: many repeats, so the backward's atomics collide.
  EXPECT_TRUE(check_device_twin([](const auto& t) { return index_select(t[0], 0, t[1]); },
                                {f32({50, 64}, 2), indices({2000}, 50, 23, DType::i32)}, {0},
                                1e-4, 1e-4));
}

TEST(JoinIndexSortGpu, ScatterAdd) {
  LAPLEX_REQUIRE_GPU();
  for (std::int64_t dim : {0, 1}) {
    EXPECT_TRUE(check_device_twin(
        [dim](const auto& t) { return scatter_add(t[0], dim, t[1], t[2]); },
        {f32({7, 8}, 1), indices(dim == 0 ? Shape{12, 6} : Shape{7, 12}, dim == 0 ? 7 : 8,
                                 30 + dim),
         f32({12, 12}, 3)},
        {0, 2}, 1e-4, 1e-4));
  }
}

TEST(JoinIndexSortGpu, Sort) {
  LAPLEX_REQUIRE_GPU();
  const Tensor x = f32({6, 7, 300}, 1);
  for (bool descending : {false, true}) {
    for (std::int64_t dim : {0, 1, 2}) {
      EXPECT_TRUE(check_device_twin(
          [=](const auto& t) { return sort(t[0], dim, descending).values; }, {x}, {0}));
      EXPECT_TRUE(check_device_twin(
          [=](const auto& t) { return sort(t[0], dim, descending).indices; }, {x}, {}));
    }
  }
  EXPECT_TRUE(check_device_twin([](const auto& t) { return argsort(t[0].to(DType::f64)); },
                                {f32({3, 5000}, 2)}, {}));
}

TEST(JoinIndexSortGpu, SortTiesAreStableOnBothDevices) {
  LAPLEX_REQUIRE_GPU();
  // Few distinct keys, many ties; -0.0 and +0.0 are equal keys too.
  const auto u = testing::random_tensor({4, 1000}, 3, -2, 2).to_vector<double>();
  std::vector<float> keys(u.size());
  for (std::size_t k = 0; k < u.size(); ++k) keys[k] = static_cast<float>(std::trunc(u[k]));
  const Tensor x = Tensor::from_vector(keys, {4, 1000});
  for (bool descending : {false, true}) {
    EXPECT_TRUE(check_device_twin(
        [=](const auto& t) { return argsort(t[0], 1, descending); }, {x}, {}));
    EXPECT_TRUE(check_device_twin(
        [=](const auto& t) { return sort(t[0], 1, descending).values; }, {x}, {0}));
  }
  const Tensor ints = indices({2, 777}, 5, 4, DType::i32);
  EXPECT_TRUE(check_device_twin([](const auto& t) { return argsort(t[0], 1, true); }, {ints}, {}));
}

// Long rows take CUB's device-wide sort, one row at a time (a single row of
// 300 000 with ties, three of 2^18), where many short rows take the
// segmented one: the same stable order either way.
TEST(JoinIndexSortGpu, LongRowsSortLikeTheCpu) {
  LAPLEX_REQUIRE_GPU();
  for (const Shape shape : {Shape{300000}, Shape{3, 1 << 18}}) {
    const auto u = testing::random_tensor(shape, 6, -50, 50).to_vector<double>();
    std::vector<float> keys(u.size());
    for (std::size_t k = 0; k < u.size(); ++k) keys[k] = static_cast<float>(std::trunc(u[k] * 100));
    const Tensor x = Tensor::from_vector(keys, shape);
    for (bool descending : {false, true}) {
      EXPECT_TRUE(check_device_twin(
          [=](const auto& t) { return argsort(t[0], -1, descending); }, {x}, {}));
      EXPECT_TRUE(check_device_twin(
          [=](const auto& t) { return sort(t[0], -1, descending).values; }, {x}, {}));
    }
  }
}

// NaNs of either sign sort above +inf on both devices, in index order, in
// short rows (CUB's segmented sort), a row of 4500 (its single-tile sort)
// and a row of 2^18 (its multi-pass sort).
TEST(JoinIndexSortGpu, NansOfEitherSignSortLast) {
  LAPLEX_REQUIRE_GPU();
  for (const Shape shape : {Shape{3, 50}, Shape{4500}, Shape{1 << 18}}) {
    std::vector<float> keys = f32(shape, 7).to_vector<float>();
    for (std::size_t k = 0; k < keys.size(); k += 7) keys[k] = k % 2 ? -NAN : NAN;
    for (std::size_t k = 3; k < keys.size(); k += 11) keys[k] = k % 2 ? INFINITY : -INFINITY;
    const Tensor x = Tensor::from_vector(keys, shape);
    for (bool descending : {false, true}) {
      const auto [want_values, want_indices] = sort(x, -1, descending);
      const auto [values, indices] = sort(x.to(Device::cuda(0)), -1, descending);
      EXPECT_EQ(indices.to(Device::cpu()).to_vector<std::int64_t>(),
                want_indices.to_vector<std::int64_t>());
      const std::vector<float> got = values.to(Device::cpu()).to_vector<float>();
      const std::vector<float> want = want_values.to_vector<float>();
      ASSERT_EQ(got.size(), want.size());
      for (std::size_t k = 0; k < got.size(); ++k)
        if (std::isnan(want[k]))
          EXPECT_TRUE(std::isnan(got[k])) << k;
        else
          EXPECT_EQ(got[k], want[k]) << k;
    }
  }
}

}  // namespace
}  // namespace laplex
