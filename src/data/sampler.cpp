#include "data/sampler.h"

#include <algorithm>
#include <numeric>
#include <random>

#include "core/error.h"
#include "core/random.h"

namespace laplex::data {

std::vector<std::int64_t> epoch_order(std::int64_t size, std::uint64_t seed, std::int64_t epoch,
                                      bool shuffle) {
  if (size < 0) throw Error("epoch_order: negative size");
  std::vector<std::int64_t> order(size);
  std::iota(order.begin(), order.end(), 0);
  if (!shuffle) return order;
  std::mt19937_64 rng(derive_seed(seed, 0x5EED0000ull + static_cast<std::uint64_t>(epoch)));
  for (std::int64_t i = size - 1; i > 0; --i) {
    const std::int64_t j = static_cast<std::int64_t>(rng() % static_cast<std::uint64_t>(i + 1));
    std::swap(order[i], order[j]);
  }
  return order;
}

std::int64_t batch_count(std::int64_t size, std::int64_t batch_size, bool drop_last) {
  if (batch_size < 1) throw Error("batch_count: batch size must be positive");
  return drop_last ? size / batch_size : (size + batch_size - 1) / batch_size;
}

Slice global_batch(std::int64_t size, std::int64_t batch_size, std::int64_t batch) {
  const std::int64_t begin = batch * batch_size;
  if (batch < 0 || begin >= size)
    throw Error("global_batch: batch " + std::to_string(batch) + " is past the epoch");
  return {begin, std::min(size, begin + batch_size)};
}

Slice rank_slice(const Slice& global, int rank, int world_size) {
  if (world_size < 1 || rank < 0 || rank >= world_size)
    throw Error("rank_slice: rank " + std::to_string(rank) + " of world size " +
                std::to_string(world_size));
  const std::int64_t n = global.size();
  return {global.begin + n * rank / world_size, global.begin + n * (rank + 1) / world_size};
}

}  // namespace laplex::data
