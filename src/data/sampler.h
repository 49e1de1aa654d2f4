#pragma once
// Which examples make up each batch of an epoch, on each rank. Everything
// here is a pure function of its arguments: the order of epoch e depends on
// (seed, e) only, so a resumed run, or a run on another number of ranks,
// sees the same global batches.
//
//   std::vector<std::int64_t> epoch_order(size, seed, epoch, shuffle)
//   std::int64_t batch_count(size, batch_size, drop_last)
//   Slice global_batch(size, batch_size, batch)    positions in the epoch order
//   Slice rank_slice(global, rank, world_size)     this rank's contiguous part
//
// The ranks' slices of a global batch are contiguous, in rank order, and
// together exactly the global batch: rank r gets positions
// [begin + n r / W, begin + n (r + 1) / W) of its n examples, so sizes
// differ by at most one and a slice can be empty when n < W (a short last
// batch).
#include <cstdint>
#include <vector>

namespace laplex::data {

// Identity, or a Fisher-Yates shuffle driven by mt19937_64 seeded with
// derive_seed(seed, 0x5EED0000 + epoch): the same orders as the trainer's
// apps/train epoch_order, written out by hand because std::shuffle's
// algorithm differs between standard libraries.
std::vector<std::int64_t> epoch_order(std::int64_t size, std::uint64_t seed, std::int64_t epoch,
                                      bool shuffle);

std::int64_t batch_count(std::int64_t size, std::int64_t batch_size, bool drop_last);

struct Slice {
  std::int64_t begin = 0, end = 0;
  std::int64_t size() const { return end - begin; }
  bool operator==(const Slice&) const = default;
};
Slice global_batch(std::int64_t size, std::int64_t batch_size, std::int64_t batch);
Slice rank_slice(const Slice& global, int rank, int world_size);

}  // namespace laplex::data
