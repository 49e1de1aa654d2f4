#include "core/collapse_dims.h"

#include <gtest/gtest.h>

#include <random>

#include "core/ops/cpu/strided_loop.h"
#include "core/ops/elementwise.h"
#include "core/ops/index.h"
#include "core/ops/view.h"

namespace laplex {
namespace {

// Every element's offsets, in the order a row-major walk of the shape visits
// them: what any collapse must leave unchanged.
template <std::size_t K>
std::vector<std::array<std::int64_t, K>> walk(const Shape& shape,
                                              const std::array<Strides, K>& strides) {
  std::vector<std::array<std::int64_t, K>> out;
  const std::int64_t n = numel(shape);
  for (std::int64_t linear = 0; linear < n; ++linear) {
    std::array<std::int64_t, K> offsets{};
    std::int64_t rest = linear;
    for (std::size_t d = shape.size(); d-- > 0;) {
      const std::int64_t i = rest % shape[d];
      rest /= shape[d];
      for (std::size_t k = 0; k < K; ++k) offsets[k] += i * strides[k][d];
    }
    out.push_back(offsets);
  }
  return out;
}

TEST(CollapseDims, ContiguousBecomesOneDim) {
  const Shape shape{2, 3, 4};
  const Strides s = contiguous_strides(shape);
  const auto c = collapse_dims<1>(shape, {&s});
  EXPECT_EQ(c.shape, (Shape{24}));
  EXPECT_EQ(c.strides[0], (Strides{1}));
}

TEST(CollapseDims, PerChannelBiasKeepsTheChannelDim) {
  const Shape shape{8, 16, 28, 28};
  const Strides out = contiguous_strides(shape);
  const Strides bias{0, 1, 0, 0};  // (1, C, 1, 1) broadcast to (N, C, H, W)
  const auto c = collapse_dims<2>(shape, {&out, &bias});
  EXPECT_EQ(c.shape, (Shape{8, 16, 784}));
  EXPECT_EQ(c.strides[0], (Strides{16 * 784, 784, 1}));
  EXPECT_EQ(c.strides[1], (Strides{0, 1, 0}));
}

TEST(CollapseDims, TransposeDoesNotMerge) {
  const Shape shape{3, 2};
  const Strides t{1, 3};
  const auto c = collapse_dims<1>(shape, {&t});
  EXPECT_EQ(c.shape, shape);
  EXPECT_EQ(c.strides[0], t);
}

TEST(CollapseDims, SizeOneDimsGoAndAllOnesIsAScalar) {
  const Shape shape{1, 5, 1};
  const Strides s{99, 7, 42};
  const auto c = collapse_dims<1>(shape, {&s});
  EXPECT_EQ(c.shape, (Shape{5}));
  EXPECT_EQ(c.strides[0], (Strides{7}));
  const Shape ones{1, 1};
  const Strides o{1, 1};
  EXPECT_TRUE(collapse_dims<1>(ones, {&o}).shape.empty());
}

TEST(CollapseDims, AZeroDimIsKept) {
  const Shape shape{3, 0, 4};
  const Strides s = contiguous_strides(shape);
  const auto c = collapse_dims<1>(shape, {&s});
  EXPECT_EQ(numel(c.shape), 0);
}

// Random views (permuted, sliced with steps, broadcast, size-1 dims) of up to
// 6 dims for 3 operands: the collapsed walk visits exactly the same offsets
// in the same order, with no two neighbouring dims left mergeable.
TEST(CollapseDims, RandomViewsWalkTheSameOffsets) {
  std::mt19937 rng(7);
  int merged_somewhere = 0;
  for (int trial = 0; trial < 2000; ++trial) {
    const int rank = std::uniform_int_distribution<int>(0, 6)(rng);
    Shape shape(rank);
    for (auto& d : shape) d = std::uniform_int_distribution<int>(1, 4)(rng);
    std::array<Strides, 3> strides;
    for (auto& s : strides) {
      // A contiguous parent with per-dim padding factors, then maybe a
      // permutation and broadcast (stride 0) dims.
      s.assign(rank, 0);
      std::vector<int> order(rank);
      for (int d = 0; d < rank; ++d) order[d] = d;
      if (rng() % 3 == 0) std::shuffle(order.begin(), order.end(), rng);
      std::int64_t step = 1 + static_cast<std::int64_t>(rng() % 2);
      for (int j = rank; j-- > 0;) {
        const int d = order[j];
        s[d] = step;
        step *= shape[d] * (1 + static_cast<std::int64_t>(rng() % 4 == 0));
      }
      for (int d = 0; d < rank; ++d)
        if (rng() % 5 == 0) s[d] = 0;
    }
    const auto c = collapse_dims<3>(shape, {&strides[0], &strides[1], &strides[2]});
    ASSERT_EQ(walk<3>(c.shape, c.strides), walk<3>(shape, strides)) << "trial " << trial;
    for (std::size_t d = 0; d + 1 < c.shape.size(); ++d) {
      bool mergeable = true;
      for (int k = 0; k < 3; ++k)
        mergeable = mergeable && c.strides[k][d] == c.strides[k][d + 1] * c.shape[d + 1];
      EXPECT_FALSE(mergeable) << "trial " << trial << " dim " << d;
    }
    for (const auto d : c.shape) EXPECT_GT(d, 1);
    if (c.shape.size() < static_cast<std::size_t>(rank)) ++merged_somewhere;
  }
  EXPECT_GT(merged_somewhere, 500);
}

// for_each_row cuts long rows into pieces for the threads; the pieces must
// cover every element once, whatever the row count.
TEST(CollapseDims, ForEachRowVisitsEveryElementOnce) {
  for (const Shape& shape : {Shape{1 << 17}, Shape{3, 50000}, Shape{70000, 2}, Shape{5, 7, 3000}}) {
    const Strides s = contiguous_strides(shape);
    std::vector<int> seen(numel(shape), 0);
    cpu::for_each_row<1>(shape, {&s}, [&](auto offsets, std::int64_t count, auto steps) {
      for (std::int64_t k = 0; k < count; ++k) seen[offsets[0] + k * steps[0]] += 1;
    });
    for (std::size_t i = 0; i < seen.size(); ++i) ASSERT_EQ(seen[i], 1) << shape_str(shape) << " " << i;
  }
}

// An index whose last dim (the scatter dim) has size 1 collapses onto another
// dim, so scatter_add must follow the row's own step of the target.
TEST(CollapseDims, ScatterAddAlongASizeOneLastDim) {
  const Tensor out = Tensor::zeros({4, 3}, DType::f32);
  const Tensor index = Tensor::from_vector<std::int64_t>({2, 0, 1, 2}, {4, 1});
  const Tensor src = Tensor::from_vector<float>({1, 2, 3, 4}, {4, 1});
  const Tensor got = scatter_add(out, 1, index, src);
  EXPECT_EQ(got.to_vector<float>(), (std::vector<float>{0, 0, 1, 2, 0, 0, 0, 3, 0, 0, 0, 4}));
}

// Elementwise ops on views of more than 8 dims (the CUDA indexer's limit
// before collapsing) and on large broadcasts agree with a plain loop.
TEST(CollapseDims, HighRankAndBroadcastElementwise) {
  const Shape high{2, 1, 2, 1, 2, 1, 2, 1, 2, 3};
  std::vector<float> a(numel(high)), b(numel(high));
  for (std::size_t i = 0; i < a.size(); ++i) {
    a[i] = static_cast<float>(i);
    b[i] = 0.5f * static_cast<float>(i);
  }
  const Tensor sum = add(Tensor::from_vector(a, high), Tensor::from_vector(b, high));
  for (std::size_t i = 0; i < a.size(); ++i) ASSERT_EQ(sum.to_vector<float>()[i], 1.5f * i);

  const Shape big{4, 16, 32, 32};
  std::vector<float> x(numel(big));
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(i % 1000);
  std::vector<float> bias(16);
  for (int c = 0; c < 16; ++c) bias[c] = static_cast<float>(c) * 1000;
  const Tensor y = add(Tensor::from_vector(x, big), Tensor::from_vector(bias, {1, 16, 1, 1}));
  const std::vector<float> got = y.to_vector<float>();
  for (std::size_t i = 0; i < x.size(); ++i)
    ASSERT_EQ(got[i], x[i] + bias[(i / 1024) % 16]) << i;
  // A transposed (non-mergeable) large copy.
  const Tensor t = transpose(Tensor::from_vector(x, {64, 1024}), 0, 1).contiguous();
  const std::vector<float> tv = t.to_vector<float>();
  for (std::int64_t r = 0; r < 1024; ++r)
    for (std::int64_t c = 0; c < 64; ++c) ASSERT_EQ(tv[r * 64 + c], x[c * 1024 + r]);
}

}  // namespace
}  // namespace laplex
