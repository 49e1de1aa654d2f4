#include <gtest/gtest.h>

#include "core/ops/index.h"
#include "core/ops/reduce.h"
#include "core/ops/view.h"
#include "helpers/gradcheck.h"

namespace laplex {
namespace {

using testing::gradcheck;
using testing::random_tensor;

Tensor i64(const std::vector<std::int64_t>& v, const Shape& shape) {
  return Tensor::from_vector(v, shape);
}

TEST(Index, GatherValues) {
  const Tensor x = Tensor::from_vector<float>({1, 2, 3, 4, 5, 6}, {2, 3});
  EXPECT_EQ(gather(x, 1, i64({2, 0, 1, 1}, {2, 2})).to_vector<float>(),
            (std::vector<float>{3, 1, 5, 5}));
  EXPECT_EQ(gather(x, 0, i64({1, 0, 1}, {1, 3})).to_vector<float>(),
            (std::vector<float>{4, 2, 6}));
  // int32 indices, and an index smaller than x in the other dims.
  const Tensor i32 = Tensor::from_vector<std::int32_t>({2}, {1, 1});
  EXPECT_EQ(gather(x, -1, i32).to_vector<float>(), (std::vector<float>{3}));
}

TEST(Index, GatherStridedOperands) {
  const Tensor x = Tensor::from_vector<double>({1, 2, 3, 4, 5, 6}, {2, 3});
  const Tensor t = transpose(x, 0, 1);  // (3, 2): [[1, 4], [2, 5], [3, 6]]
  const Tensor index = transpose(i64({1, 0, 0, 0, 1, 1}, {2, 3}), 0, 1);  // [[1,0],[0,1],[0,1]]
  EXPECT_EQ(gather(t, 1, index).to_vector<double>(), (std::vector<double>{4, 1, 2, 5, 3, 6}));
}

TEST(Index, IndexSelectValues) {
  const Tensor x = Tensor::from_vector<float>({1, 2, 3, 4, 5, 6}, {2, 3});
  const Tensor rows = index_select(x, 0, i64({1, 1, 0}, {3}));
  EXPECT_EQ(rows.shape(), (Shape{3, 3}));
  EXPECT_EQ(rows.to_vector<float>(), (std::vector<float>{4, 5, 6, 4, 5, 6, 1, 2, 3}));
  const Tensor cols = index_select(x, 1, Tensor::from_vector<std::int32_t>({2, 0}, {2}));
  EXPECT_EQ(cols.to_vector<float>(), (std::vector<float>{3, 1, 6, 4}));
  EXPECT_EQ(index_select(x, 0, i64({}, {0})).shape(), (Shape{0, 3}));
  // A strided index.
  const Tensor strided = slice(i64({2, 9, 1, 9}, {4}), 0, 0, 4, 2);
  EXPECT_EQ(index_select(x, 1, strided).to_vector<float>(), (std::vector<float>{3, 2, 6, 5}));
}

TEST(Index, ScatterAddValues) {
  const Tensor x = Tensor::from_vector<float>({1, 1, 1, 1, 1, 1}, {2, 3});
  const Tensor src = Tensor::from_vector<float>({10, 20, 30, 40}, {2, 2});
  // Repeated indices accumulate.
  const Tensor out = scatter_add(x, 1, i64({0, 0, 2, 1}, {2, 2}), src);
  EXPECT_EQ(out.to_vector<float>(), (std::vector<float>{31, 1, 1, 1, 41, 31}));
  EXPECT_EQ(x.to_vector<float>(), (std::vector<float>(6, 1)));  // out of place
  const Tensor down = scatter_add(x, 0, i64({1, 0}, {1, 2}), src);
  EXPECT_EQ(down.to_vector<float>(), (std::vector<float>{1, 21, 1, 11, 1, 1}));
}

TEST(Index, ScatterAddIgnoresSrcOutsideIndex) {
  const Tensor x = Tensor::zeros({3}, DType::f64);
  const Tensor src = Tensor::from_vector<double>({1, 2, 3, 4}, {4});
  EXPECT_EQ(scatter_add(x, 0, i64({2, 2}, {2}), src).to_vector<double>(),
            (std::vector<double>{0, 0, 3}));
}

TEST(Index, LargeScatterAddMatchesALoop) {
  // Big enough for the threaded paths, along every dim of a 3-D target.
  const Shape target{40, 5, 130};
  for (std::int64_t dim : {0, 1, 2}) {
    Shape shape = target;
    shape[dim] = 90;
    const auto u = random_tensor(shape, 20 + dim, 0, static_cast<double>(target[dim]));
    std::vector<std::int64_t> ix;
    for (double v : u.to_vector<double>()) ix.push_back(static_cast<std::int64_t>(v));
    const Tensor index = i64(ix, shape);
    const Tensor src = random_tensor(shape, 30 + dim);
    const Tensor x = random_tensor(target, 40 + dim);

    std::vector<double> expected = x.to_vector<double>();
    const auto sv = src.to_vector<double>();
    for (std::int64_t a = 0; a < shape[0]; ++a)
      for (std::int64_t b = 0; b < shape[1]; ++b)
        for (std::int64_t c = 0; c < shape[2]; ++c) {
          const std::int64_t k = (a * shape[1] + b) * shape[2] + c;
          std::int64_t p[3] = {a, b, c};
          p[dim] = ix[k];
          expected[(p[0] * target[1] + p[1]) * target[2] + p[2]] += sv[k];
        }
    EXPECT_TRUE(testing::all_close(scatter_add(x, dim, index, src),
                                   Tensor::from_vector(expected, target), 1e-12, 1e-12))
        << "dim " << dim;
  }
}

TEST(Index, OutOfRangeIndicesThrow) {
  const Tensor x = Tensor::zeros({2, 3});
  try {
    gather(x, 1, i64({0, 3}, {2, 1}));
    FAIL() << "no exception";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("index 3 is out of range"), std::string::npos)
        << e.what();
  }
  EXPECT_THROW(gather(x, 1, i64({-1}, {1, 1})), Error);
  EXPECT_THROW(index_select(x, 0, i64({0, 2}, {2})), Error);
  EXPECT_THROW(index_select(x, 1, Tensor::from_vector<std::int32_t>({-2}, {1})), Error);
  EXPECT_THROW(scatter_add(x, 0, i64({2}, {1, 1}), Tensor::ones({1, 1})), Error);
}

TEST(Index, BadArgumentsThrow) {
  const Tensor x = Tensor::zeros({2, 3});
  EXPECT_THROW(gather(x, 1, Tensor::zeros({2, 1})), Error);           // float index
  EXPECT_THROW(gather(x, 1, i64({0, 0}, {2})), Error);                // rank
  EXPECT_THROW(gather(x, 1, i64({0, 0, 0}, {3, 1})), Error);          // too big in dim 0
  EXPECT_THROW(gather(x, 2, i64({0}, {1, 1})), Error);                // dim
  EXPECT_THROW(index_select(x, 0, i64({0}, {1, 1})), Error);          // not 1-D
  EXPECT_THROW(scatter_add(x, 0, i64({0}, {1, 1}), Tensor::ones({1, 1}, DType::f64)), Error);
  EXPECT_THROW(scatter_add(x, 0, i64({0, 0}, {1, 2}), Tensor::ones({1, 1})), Error);
  EXPECT_THROW(scatter_add(Tensor::zeros({2}, DType::i64), 0, i64({0}, {1}),
                           Tensor::zeros({1}, DType::i64)),
               Error);
}

TEST(Index, GatherGradient) {
  // Repeated indices: the gradient accumulates.
  const Tensor index = i64({0, 2, 2, 1, 0, 0, 3, 3}, {2, 4});
  EXPECT_TRUE(gradcheck([&](const std::vector<Tensor>& in) { return gather(in[0], 1, index); },
                        {random_tensor({2, 5}, 1)}));
  EXPECT_TRUE(gradcheck(
      [&](const std::vector<Tensor>& in) { return gather(transpose(in[0], 0, 1), 0, index); },
      {random_tensor({4, 5}, 2)}));
}

TEST(Index, IndexSelectGradient) {
  const Tensor index = i64({2, 0, 2, 2}, {4});
  EXPECT_TRUE(gradcheck(
      [&](const std::vector<Tensor>& in) { return index_select(in[0], 0, index); },
      {random_tensor({3, 2}, 3)}));
  EXPECT_TRUE(gradcheck(
      [&](const std::vector<Tensor>& in) { return index_select(in[0], 1, index); },
      {random_tensor({2, 3, 2}, 4)}));
}

TEST(Index, ScatterAddGradient) {
  const Tensor index = i64({1, 1, 0, 2, 0, 0}, {3, 2});
  EXPECT_TRUE(gradcheck(
      [&](const std::vector<Tensor>& in) { return scatter_add(in[0], 0, index, in[1]); },
      {random_tensor({3, 2}, 5), random_tensor({3, 2}, 6)}));
  // src larger than index: its other elements get a zero gradient.
  EXPECT_TRUE(gradcheck(
      [&](const std::vector<Tensor>& in) { return scatter_add(in[0], 1, index, in[1]); },
      {random_tensor({3, 3}, 7), random_tensor({4, 3}, 8)}));
}

}  // namespace
}  // namespace laplex
