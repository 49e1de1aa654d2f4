#include "data/transforms.h"

#include <gtest/gtest.h>

#include <set>
#include <thread>

#include "core/error.h"
#include "data/tensor_dataset.h"

namespace laplex::data {
namespace {

std::vector<float> iota(std::size_t n, float start = 1) {
  std::vector<float> v(n);
  for (std::size_t k = 0; k < n; ++k) v[k] = start + static_cast<float>(k);
  return v;
}

philox::Block block(std::uint64_t counter) { return philox::generate(42, counter); }

TEST(TransformNormalize, PerChannelAndShared) {
  std::vector<float> x = {1, 2, 3, 4, 10, 20, 30, 40};  // (2, 2, 2)
  Normalize({2, 20}, {1, 10}).apply(x.data(), {2, 2, 2}, block(0));
  EXPECT_EQ(x, (std::vector<float>{-1, 0, 1, 2, -1, 0, 1, 2}));
  std::vector<float> y = {1, 3};
  Normalize({1}, {2}).apply(y.data(), {2}, block(0));
  EXPECT_EQ(y, (std::vector<float>{0, 1}));
  EXPECT_THROW(Normalize({0, 0, 0}, {1, 1, 1}).apply(x.data(), {2, 2, 2}, block(0)), UsageError);
  EXPECT_THROW(Normalize({0}, {0}), UsageError);
  EXPECT_THROW(Normalize({0, 1}, {1}), UsageError);
}

TEST(TransformRandomCrop, ShiftsWithZeroFillWithinThePadding) {
  const std::int64_t c = 2, h = 5, w = 6, pad = 2;
  const std::vector<float> original = iota(c * h * w);
  std::set<std::pair<std::int64_t, std::int64_t>> shifts;
  for (std::uint64_t counter = 0; counter < 200; ++counter) {
    std::vector<float> x = original;
    RandomCrop(pad).apply(x.data(), {c, h, w}, block(counter));
    // Find the shift: the values are unique, so any non-zero output locates it.
    bool found = false;
    for (std::int64_t dy = -pad; dy <= pad && !found; ++dy)
      for (std::int64_t dx = -pad; dx <= pad && !found; ++dx) {
        bool match = true;
        for (std::int64_t ch = 0; ch < c; ++ch)
          for (std::int64_t y = 0; y < h; ++y)
            for (std::int64_t col = 0; col < w; ++col) {
              const std::int64_t sy = y + dy, sx = col + dx;
              const float want =
                  sy >= 0 && sy < h && sx >= 0 && sx < w ? original[(ch * h + sy) * w + sx] : 0.0f;
              match = match && x[(ch * h + y) * w + col] == want;
            }
        if (match) {
          found = true;
          shifts.insert({dy, dx});
        }
      }
    EXPECT_TRUE(found) << "counter " << counter;
  }
  EXPECT_EQ(shifts.size(), 25u);  // every offset in [-2, 2]^2 occurs
  std::vector<float> same = original;
  RandomCrop(0).apply(same.data(), {c, h, w}, block(3));
  EXPECT_EQ(same, original);
  EXPECT_THROW(RandomCrop(1).apply(same.data(), {60}, block(0)), Error);
}

TEST(TransformRandomHorizontalFlip, MirrorsAboutHalfTheTime) {
  const std::vector<float> original = iota(2 * 3);  // (2, 3) = one channel
  const std::vector<float> mirrored = {3, 2, 1, 6, 5, 4};
  int flipped = 0;
  for (std::uint64_t counter = 0; counter < 1000; ++counter) {
    std::vector<float> x = original;
    RandomHorizontalFlip().apply(x.data(), {2, 3}, block(counter));
    EXPECT_TRUE(x == original || x == mirrored);
    flipped += x == mirrored;
  }
  EXPECT_GT(flipped, 430);
  EXPECT_LT(flipped, 570);
  std::vector<float> x = original;
  RandomHorizontalFlip(0.0).apply(x.data(), {1, 2, 3}, block(1));
  EXPECT_EQ(x, original);
  RandomHorizontalFlip(1.0).apply(x.data(), {1, 2, 3}, block(1));
  EXPECT_EQ(x, mirrored);
  EXPECT_THROW(RandomHorizontalFlip(1.5), UsageError);
}

TEST(TransformedDataset, DeterministicPerIndexAndEpochAndThreadSafe) {
  const std::int64_t n = 64;
  auto base =
      std::make_shared<TensorDataset>(Tensor::from_vector(iota(n * 3 * 4 * 4), {n, 3, 4, 4}),
                                      Tensor::from_vector(std::vector<std::int64_t>(n, 1), {n}));
  const std::vector<std::shared_ptr<const Transform>> transforms = {
      std::make_shared<RandomCrop>(1), std::make_shared<RandomHorizontalFlip>(),
      std::make_shared<Normalize>(std::vector<float>{1, 2, 3}, std::vector<float>{2, 2, 2})};
  const TransformedDataset d(base, transforms, 7);
  EXPECT_EQ(d.example_shape(), (Shape{3, 4, 4}));
  EXPECT_TRUE(d.has_labels());
  EXPECT_EQ(d.classes(), 2);
  auto read = [&](const Dataset& ds, std::int64_t i, std::int64_t e) {
    std::vector<float> out(48);
    std::int64_t label = -1;
    ds.read(i, e, out.data(), &label);
    EXPECT_EQ(label, 1);
    return out;
  };
  std::vector<std::vector<float>> sequential;
  int changed = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    sequential.push_back(read(d, i, 3));
    changed += read(d, i, 4) != sequential.back();
  }
  EXPECT_GT(changed, n / 2);  // a new epoch brings new augmentation
  EXPECT_EQ(read(TransformedDataset(base, transforms, 7), 5, 3), sequential[5]);
  EXPECT_NE(read(TransformedDataset(base, transforms, 8), 5, 3), sequential[5]);
  std::vector<std::vector<float>> parallel(n);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (std::int64_t i = n - 1 - t; i >= 0; i -= 4) parallel[i] = read(d, i, 3);
    });
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(parallel, sequential);
}

}  // namespace
}  // namespace laplex::data
