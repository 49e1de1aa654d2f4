#include "data/loader.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>

#include "core/error.h"
#include "core/pinned_memory.h"
#include "data/sampler.h"

namespace laplex::data {
namespace {

// Example i of epoch e is (i, e, 0.5 i); its label is i.
class IndexDataset : public Dataset {
 public:
  explicit IndexDataset(std::int64_t size, std::int64_t bad = -1) : size_(size), bad_(bad) {}
  std::int64_t size() const override { return size_; }
  Shape example_shape() const override { return {3}; }
  bool has_labels() const override { return true; }
  void read(std::int64_t index, std::int64_t epoch, float* out,
            std::int64_t* label) const override {
    if (index == bad_) throw UsageError("example " + std::to_string(index) + " is unreadable");
    out[0] = static_cast<float>(index);
    out[1] = static_cast<float>(epoch);
    out[2] = 0.5f * static_cast<float>(index);
    if (label) *label = index;
  }

 private:
  std::int64_t size_, bad_;
};

struct Seen {
  std::vector<std::int64_t> labels;
  std::vector<float> inputs;
  std::vector<std::int64_t> sizes, indices, global_sizes;
  bool operator==(const Seen&) const = default;
};

Seen drain(Loader& loader) {
  Seen seen;
  while (auto batch = loader.next()) {
    EXPECT_EQ(batch->inputs.dim(), 2);
    EXPECT_EQ(batch->inputs.size(1), 3);
    EXPECT_EQ(batch->labels.numel(), batch->inputs.size(0));
    const auto labels = batch->labels.to_vector<std::int64_t>();
    const auto inputs = batch->inputs.to_vector<float>();
    seen.labels.insert(seen.labels.end(), labels.begin(), labels.end());
    seen.inputs.insert(seen.inputs.end(), inputs.begin(), inputs.end());
    seen.sizes.push_back(batch->inputs.size(0));
    seen.indices.push_back(batch->index);
    seen.global_sizes.push_back(batch->global_size);
  }
  EXPECT_FALSE(loader.next().has_value());  // stays at the end
  return seen;
}

Seen run_epoch(std::int64_t size, LoaderOptions options, std::int64_t epoch,
               std::int64_t first = 0) {
  Loader loader(std::make_shared<IndexDataset>(size), options);
  loader.start_epoch(epoch, first);
  return drain(loader);
}

TEST(LoaderSampler, EpochOrderKeepsTheTrainersSemantics) {
  // Values of apps/train epoch_order(10, 7, 3, true) when the loader was written.
  EXPECT_EQ(epoch_order(10, 7, 3, true), (std::vector<std::int64_t>{7, 4, 3, 2, 1, 6, 0, 8, 5, 9}));
  std::vector<std::int64_t> identity(10);
  std::iota(identity.begin(), identity.end(), 0);
  EXPECT_EQ(epoch_order(10, 7, 3, false), identity);
  EXPECT_EQ(epoch_order(0, 7, 3, true), std::vector<std::int64_t>{});
}

TEST(LoaderSampler, RankSlicesTileEveryGlobalBatch) {
  EXPECT_EQ(batch_count(10, 4, false), 3);
  EXPECT_EQ(batch_count(10, 4, true), 2);
  EXPECT_EQ(global_batch(10, 4, 2), (Slice{8, 10}));
  for (int world = 1; world <= 5; ++world)
    for (std::int64_t n = 0; n <= 7; ++n) {
      std::int64_t next = 3;
      for (int r = 0; r < world; ++r) {
        const Slice s = rank_slice({3, 3 + n}, r, world);
        EXPECT_EQ(s.begin, next);
        EXPECT_LE(s.size(), (n + world - 1) / world);
        EXPECT_GE(s.size(), n / world);
        next = s.end;
      }
      EXPECT_EQ(next, 3 + n);
    }
}

TEST(LoaderOrder, DeterministicInSeedAndEpochAndAPermutation) {
  LoaderOptions options;
  options.batch_size = 8;
  options.seed = 3;
  const Seen a = run_epoch(50, options, 4);
  EXPECT_EQ(run_epoch(50, options, 4), a);
  EXPECT_NE(run_epoch(50, options, 5).labels, a.labels);
  options.seed = 4;
  EXPECT_NE(run_epoch(50, options, 4).labels, a.labels);
  EXPECT_EQ(a.labels, epoch_order(50, 3, 4, true));
  std::vector<std::int64_t> sorted = a.labels;
  std::sort(sorted.begin(), sorted.end());
  std::vector<std::int64_t> identity(50);
  std::iota(identity.begin(), identity.end(), 0);
  EXPECT_EQ(sorted, identity);
  EXPECT_EQ(a.sizes, (std::vector<std::int64_t>{8, 8, 8, 8, 8, 8, 2}));
  EXPECT_EQ(a.indices, (std::vector<std::int64_t>{0, 1, 2, 3, 4, 5, 6}));
  for (std::size_t k = 0; k < a.labels.size(); ++k) {
    EXPECT_EQ(a.inputs[3 * k], static_cast<float>(a.labels[k]));
    EXPECT_EQ(a.inputs[3 * k + 1], 4.0f);  // the epoch reaches read()
  }
  options.shuffle = false;
  EXPECT_EQ(run_epoch(50, options, 4).labels, identity);
}

TEST(LoaderOrder, DropLastDropsOnlyTheShortBatch) {
  LoaderOptions options;
  options.batch_size = 4;
  options.drop_last = true;
  Loader loader(std::make_shared<IndexDataset>(10), options);
  EXPECT_EQ(loader.batches_per_epoch(), 2);
  loader.start_epoch(0);
  const Seen dropped = drain(loader);
  EXPECT_EQ(dropped.sizes, (std::vector<std::int64_t>{4, 4}));
  options.drop_last = false;
  const Seen kept = run_epoch(10, options, 0);
  EXPECT_EQ(kept.sizes, (std::vector<std::int64_t>{4, 4, 2}));
  EXPECT_EQ(loader.smallest_batch(), 4);
  EXPECT_EQ(Loader(std::make_shared<IndexDataset>(10), options).smallest_batch(), 2);
  EXPECT_EQ(Loader(std::make_shared<IndexDataset>(9), options).smallest_batch(), 1);
  EXPECT_EQ(Loader(std::make_shared<IndexDataset>(12), options).smallest_batch(), 4);
  EXPECT_TRUE(std::equal(dropped.labels.begin(), dropped.labels.end(), kept.labels.begin()));
  options.batch_size = 20;
  options.drop_last = true;
  EXPECT_EQ(run_epoch(10, options, 0).sizes, std::vector<std::int64_t>{});
  EXPECT_EQ(Loader(std::make_shared<IndexDataset>(10), options).smallest_batch(), 0);
}

TEST(LoaderShard, RanksTogetherSeeTheOneRankBatchesInOrder) {
  for (const bool drop_last : {false, true})
    for (int world : {2, 3}) {
      SCOPED_TRACE("world " + std::to_string(world) + (drop_last ? " drop_last" : ""));
      LoaderOptions options;
      options.batch_size = 6;
      options.seed = 9;
      options.drop_last = drop_last;
      const Seen single = run_epoch(23, options, 2);
      options.world_size = world;
      std::vector<Seen> ranks;
      for (int r = 0; r < world; ++r) {
        options.rank = r;
        ranks.push_back(run_epoch(23, options, 2));
        EXPECT_EQ(ranks.back().indices, single.indices);
        EXPECT_EQ(ranks.back().global_sizes, single.sizes);
      }
      Seen joined;
      std::vector<std::size_t> offset(world, 0);
      for (std::size_t b = 0; b < single.sizes.size(); ++b) {
        std::int64_t total = 0;
        for (int r = 0; r < world; ++r) {
          const std::int64_t n = ranks[r].sizes[b];
          total += n;
          joined.labels.insert(joined.labels.end(), ranks[r].labels.begin() + offset[r],
                               ranks[r].labels.begin() + offset[r] + n);
          joined.inputs.insert(joined.inputs.end(), ranks[r].inputs.begin() + 3 * offset[r],
                               ranks[r].inputs.begin() + 3 * (offset[r] + n));
          offset[r] += n;
        }
        EXPECT_EQ(total, single.sizes[b]);
      }
      EXPECT_EQ(joined.labels, single.labels);
      EXPECT_EQ(joined.inputs, single.inputs);
    }
  LoaderOptions bad;
  bad.batch_size = 2;
  bad.world_size = 3;
  EXPECT_THROW(Loader(std::make_shared<IndexDataset>(5), bad), UsageError);
  bad.batch_size = 4;
  bad.rank = 3;
  EXPECT_THROW(Loader(std::make_shared<IndexDataset>(5), bad), UsageError);
}

TEST(LoaderPrefetch, PrefetchedBatchesEqualSynchronousOnes) {
  LoaderOptions options;
  options.batch_size = 5;
  options.seed = 1;
  options.prefetch = 0;
  const Seen synchronous = run_epoch(37, options, 6);
  for (int prefetch : {1, 2, 8})
    for (int workers : {1, 3}) {
      options.prefetch = prefetch;
      options.workers = workers;
      EXPECT_EQ(run_epoch(37, options, 6), synchronous)
          << "prefetch " << prefetch << ", workers " << workers;
    }
}

TEST(LoaderPrefetch, AnExceptionInReadSurfacesInNextOnTheCallersThread) {
  for (int prefetch : {0, 2, 4}) {
    SCOPED_TRACE("prefetch " + std::to_string(prefetch));
    LoaderOptions options;
    options.batch_size = 4;
    options.shuffle = false;
    options.prefetch = prefetch;
    options.workers = prefetch == 4 ? 3 : 1;
    Loader loader(std::make_shared<IndexDataset>(20, 9), options);  // batch 2 holds example 9
    loader.start_epoch(0);
    ASSERT_TRUE(loader.next().has_value());
    ASSERT_TRUE(loader.next().has_value());
    try {
      loader.next();
      FAIL() << "no exception";
    } catch (const UsageError& e) {
      EXPECT_STREQ(e.what(), "example 9 is unreadable");
    }
    EXPECT_THROW(loader.next(), UsageError);  // sticky until the next start_epoch
    loader.start_epoch(1, 3);
    const Seen rest = drain(loader);
    EXPECT_EQ(rest.indices, (std::vector<std::int64_t>{3, 4}));
  }
}

TEST(LoaderResume, StartingMidEpochGivesTheRemainingBatchesBitIdentically) {
  LoaderOptions options;
  options.batch_size = 4;
  options.seed = 5;
  options.prefetch = 3;
  const Seen full = run_epoch(30, options, 2);
  const Seen tail = run_epoch(30, options, 2, 3);
  EXPECT_EQ(tail.indices, (std::vector<std::int64_t>{3, 4, 5, 6, 7}));
  EXPECT_TRUE(std::equal(tail.labels.begin(), tail.labels.end(), full.labels.begin() + 12));
  EXPECT_TRUE(std::equal(tail.inputs.begin(), tail.inputs.end(), full.inputs.begin() + 36));

  options.workers = 2;
  EXPECT_EQ(run_epoch(30, options, 2, 3), tail);

  // Interrupting an epoch while the workers are ahead, then resuming.
  Loader loader(std::make_shared<IndexDataset>(30), options);
  loader.start_epoch(2);
  ASSERT_TRUE(loader.next().has_value());
  EXPECT_EQ(loader.position(), 1);
  loader.start_epoch(7);  // abandons epoch 2 with batches queued
  ASSERT_TRUE(loader.next().has_value());
  loader.start_epoch(2, 3);
  EXPECT_EQ(drain(loader), tail);
  EXPECT_EQ(loader.position(), loader.batches_per_epoch());
  loader.start_epoch(2, loader.batches_per_epoch());  // resuming at the very end
  EXPECT_FALSE(loader.next().has_value());
  EXPECT_THROW(loader.start_epoch(2, 9), UsageError);
  // Destroyed mid-epoch with the prefetch thread waiting: joins cleanly.
  Loader abandoned(std::make_shared<IndexDataset>(30), options);
  abandoned.start_epoch(0);
  abandoned.next();
}

TEST(LoaderPrefetch, UnlabelledDatasetsGiveUndefinedLabelsAndNextNeedsAnEpoch) {
  class Plain : public IndexDataset {
   public:
    using IndexDataset::IndexDataset;
    bool has_labels() const override { return false; }
  };
  Loader loader(std::make_shared<Plain>(6), LoaderOptions{});
  EXPECT_THROW(loader.next(), Error);
  loader.start_epoch(0);
  const auto batch = loader.next();
  ASSERT_TRUE(batch.has_value());
  EXPECT_FALSE(batch->labels.defined());
  EXPECT_EQ(batch->inputs.shape(), (Shape{6, 3}));
}

TEST(LoaderOrder, AnEmptyDatasetHasNoBatches) {
  Loader loader(std::make_shared<IndexDataset>(0), LoaderOptions{});
  EXPECT_EQ(loader.batches_per_epoch(), 0);
  loader.start_epoch(0);
  EXPECT_FALSE(loader.next().has_value());
}

TEST(LoaderPinnedMemory, HostBufferIsUsableWithOrWithoutAGpu) {
  for (bool pinned : {false, true}) {
    HostBuffer buffer(1000, pinned, 0);
    EXPECT_EQ(buffer.bytes(), 1000u);
    if (!pinned || !cuda_available()) EXPECT_FALSE(buffer.pinned());
    auto* bytes = static_cast<unsigned char*>(buffer.data());
    std::fill(bytes, bytes + 1000, 7);
    EXPECT_EQ(bytes[999], 7);
  }
  HostBuffer empty(0, true, 0);
  EXPECT_NE(empty.data(), nullptr);
}

}  // namespace
}  // namespace laplex::data
