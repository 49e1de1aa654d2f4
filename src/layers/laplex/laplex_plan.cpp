#include "layers/laplex/laplex_plan.h"

#include <omp.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <type_traits>
#include <chrono>
#include <cmath>

#include "layers/laplex/laplex_lanes.h"

namespace laplex {

namespace {

// Positions as unsigned integers with the same order (IEEE trick: flip all
// bits of negatives, the sign bit of the rest); -0 counts as +0, so the tie
// rule sees equal positions.
template <class T>
using KeyOf = std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>;

template <class T>
KeyOf<T> to_key(T position) {
  using K = KeyOf<T>;
  const T canonical = position + T(0);  // -0 + 0 = +0
  K bits;
  std::memcpy(&bits, &canonical, sizeof bits);
  constexpr K sign = K{1} << (8 * sizeof(K) - 1);
  return (bits & sign) ? ~bits : (bits | sign);
}

template <class T>
T from_key(KeyOf<T> key) {
  using K = KeyOf<T>;
  constexpr K sign = K{1} << (8 * sizeof(K) - 1);
  const K bits = (key & sign) ? (key & ~sign) : ~key;
  T position;
  std::memcpy(&position, &bits, sizeof position);
  return position;
}

// An anchor's key and index as one item, so a radix pass moves one value
// per anchor (one write stream per bucket instead of two): for float the key
// sits in the high half of a 64-bit word above the index.
template <class T>
struct Item {
  KeyOf<T> key;
  std::uint32_t index;
};

template <>
struct Item<float> {
  std::uint64_t word;
};

template <class T>
Item<T> make_item(KeyOf<T> key, std::uint32_t index) {
  if constexpr (std::is_same_v<T, float>)
    return {(std::uint64_t{key} << 32) | index};
  else
    return {key, index};
}

template <class T>
KeyOf<T> key_of(const Item<T>& item) {
  if constexpr (std::is_same_v<T, float>)
    return static_cast<std::uint32_t>(item.word >> 32);
  else
    return item.key;
}

template <class T>
std::uint32_t index_of(const Item<T>& item) {
  if constexpr (std::is_same_v<T, float>)
    return static_cast<std::uint32_t>(item.word);
  else
    return item.index;
}

// Bits of key a radix pass sorts on: 11 (3 passes for a float key, not 4)
// keeps the 3 x 2048 counters in L1.
constexpr int kDigitBits = 11;
constexpr std::uint32_t kDigits = 1u << kDigitBits;

// The key above every finite position's (those of NaNs aside, which the
// sort rejects): the sentinel that ends each sorted side, so the merge
// needs no end checks.
template <class T>
constexpr KeyOf<T> kSentinel = ~KeyOf<T>{0};

// What the check pass found in one side.
enum class SideOrder : char { kSorted, kUnsorted, kNotFinite };

// The check pass of one side: its items (key and index) into `a`, then the
// sentinel into `a` and `b` (room for count + 1 items each). Branch-free: a
// data-dependent branch per anchor would cost more than the pass's work.
// Checking finiteness here, in the pass that reads the positions anyway,
// saves a pass.
template <class T>
SideOrder load_side(const T* positions, std::int64_t count, Item<T>* a, Item<T>* b) {
  using K = KeyOf<T>;
  const auto size = static_cast<std::size_t>(count);
  bool finite = true, unsorted = false;
  K previous = 0;
  for (std::size_t i = 0; i < size; ++i) {
    finite &= std::isfinite(positions[i]);
    const K key = to_key(positions[i]);
    a[i] = make_item<T>(key, static_cast<std::uint32_t>(i));
    unsorted |= key < previous;
    previous = key;
  }
  a[size] = make_item<T>(kSentinel<T>, 0);
  b[size] = a[size];
  return !finite ? SideOrder::kNotFinite : unsorted ? SideOrder::kUnsorted : SideOrder::kSorted;
}

// Items a radix pass places at a time (their positions stay in L1).
constexpr std::size_t kScatterRun = 512;

// The `count` items in `a` sorted: keys ascending, ties in index order. LSD
// radix sort, stable (so equal keys keep index order); passes where every
// key has the same digit are skipped. The passes alternate between `a` and
// `b`; returns the one that holds the result.
template <class T>
const Item<T>* radix_sort(std::int64_t count, Item<T>* a, Item<T>* b) {
  using K = KeyOf<T>;
  constexpr int kPasses = (8 * sizeof(K) + kDigitBits - 1) / kDigitBits;
  const auto size = static_cast<std::size_t>(count);
  std::vector<std::array<std::uint32_t, kDigits>> histogram(kPasses);
  for (auto& h : histogram) h.fill(0);
  for (std::size_t i = 0; i < size; ++i) {
    const K key = key_of(a[i]);
    for (int d = 0; d < kPasses; ++d) ++histogram[d][(key >> (kDigitBits * d)) & (kDigits - 1)];
  }
  const K first = key_of(a[0]);
  Item<T>* from = a;
  Item<T>* to = b;
  for (int d = 0; d < kPasses; ++d) {
    auto& h = histogram[d];
    const int shift = kDigitBits * d;
    if (h[(first >> shift) & (kDigits - 1)] == size) continue;
    std::uint32_t offset = 0;
    for (auto& bucket : h) {
      const std::uint32_t c = bucket;
      bucket = offset;
      offset += c;
    }
    // The positions of a run of items first, then their stores: in one
    // loop each counter's load waited on the item stores before it (whose
    // addresses come late). A pass over 64K items of 2048 random digits
    // took 0.44 ms that way and 0.29 in runs of 512 (microbenchmark); the
    // plan at n = m = 2^16 on two threads 2.6-2.7 -> 2.1-2.7 ms, on one
    // 3.9-4.5 -> 2.5-4.5 (alternating builds, 4 runs each).
    for (std::size_t i0 = 0; i0 < size; i0 += kScatterRun) {
      const std::size_t run = std::min(kScatterRun, size - i0);
      std::uint32_t position[kScatterRun];
      for (std::size_t i = 0; i < run; ++i)
        position[i] = h[(key_of(from[i0 + i]) >> shift) & (kDigits - 1)]++;
      for (std::size_t i = 0; i < run; ++i) to[position[i]] = from[i0 + i];
    }
    std::swap(from, to);
  }
  return from;
}

// Merge chains run side by side in one loop. A merge step needs the keys
// its previous step chose (a load, a compare and an add: about 10 cycles),
// so one chain leaves the core mostly idle; independent chains over
// separate parts of the output (split by merge path) fill it. The plan of
// sorted sides at n = m = 2^16 (check pass and merge) took 0.94-1.17 ms
// with one chain, 0.57-0.62 with 4, 0.59 with 2 and 0.83 with 8 (out of
// registers); of random ones 2.4-3.0 ms with one, 1.7-1.9 with 4.
constexpr int kMergeChains = 4;

// How many of the first `k` merged events are sources: the merge takes the
// source at equal keys, so i sources and k - i targets come first when
// src[i - 1] <= tgt[k - i] and tgt[k - i - 1] < src[i] (merge path). Both
// sides end in a sentinel.
template <class T>
std::int64_t sources_before(const Item<T>* src, std::int64_t n, const Item<T>* tgt,
                            std::int64_t m, std::int64_t k) {
  std::int64_t lo = std::max<std::int64_t>(0, k - m), hi = std::min(k, n);
  while (lo < hi) {
    const std::int64_t mid = lo + (hi - lo) / 2;
    if (key_of(src[mid]) <= key_of(tgt[k - mid - 1]))
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

// One head's events from its sorted sources (n) and targets (m): codes
// (ascending positions, sources first at equal positions) and gaps. Each
// side ends in a sentinel above every real key, so the side that runs out
// first is never taken again. Sources and targets interleave at random, so
// the choice is a select, not a branch.
template <class T>
void merge_sides(const Item<T>* src, std::int64_t n, const Item<T>* tgt, std::int64_t m,
                 std::uint32_t* code, T* gap) {
  using K = KeyOf<T>;
  const std::int64_t events = m + n;
  // Chain c writes events [start[c], start[c + 1]), taking the sides from
  // a[c] and b[c]; `previous` is the position of its last event.
  const int chains = events >= 16 * kMergeChains ? kMergeChains : 1;
  std::int64_t start[kMergeChains + 1];
  std::size_t a[kMergeChains], b[kMergeChains];
  T first[kMergeChains], previous[kMergeChains];
  for (int c = 0; c <= chains; ++c) start[c] = events * c / chains;
  for (int c = 0; c < chains; ++c) {
    const std::int64_t i = sources_before(src, n, tgt, m, start[c]);
    a[c] = static_cast<std::size_t>(i);
    b[c] = static_cast<std::size_t>(start[c] - i);
    first[c] = previous[c] = from_key<T>(std::min(key_of(src[a[c]]), key_of(tgt[b[c]])));
  }
  auto step = [&](int c, std::int64_t k) {
    const K ks = key_of(src[a[c]]), kt = key_of(tgt[b[c]]);
    // Masks, not ?:, which the compiler turned back into a branch.
    const auto take = static_cast<std::uint32_t>(ks <= kt);
    const std::uint32_t mask = 0u - take;  // all ones for the source
    const K key_mask = K{0} - K{take};
    const T position = from_key<T>((ks & key_mask) | (kt & ~key_mask));
    code[k] = (index_of(src[a[c]]) & mask) | ((index_of(tgt[b[c]]) | kLaplexTargetBit) & ~mask);
    a[c] += take;
    b[c] += 1 - take;
    gap[k] = position - previous[c];
    previous[c] = position;
  };
  if (chains == kMergeChains) {
    // The chains' lengths differ by at most one: all take the shortest
    // length together, then each its last event.
    std::int64_t shortest = events;
    for (int c = 0; c < chains; ++c) shortest = std::min(shortest, start[c + 1] - start[c]);
    for (std::int64_t k = 0; k < shortest; ++k)
      for (int c = 0; c < kMergeChains; ++c) step(c, start[c] + k);
    for (int c = 0; c < chains; ++c)
      for (std::int64_t k = start[c] + shortest; k < start[c + 1]; ++k) step(c, k);
  } else {
    for (std::int64_t k = 0; k < events; ++k) step(0, k);
  }
  // A chain's first gap is from the last event of the chain before.
  for (int c = 1; c < chains; ++c) gap[start[c]] = first[c] - previous[c - 1];
}

// Anchors below which the check passes run on one thread: at about a
// nanosecond an anchor they cost less than a parallel region does on a busy
// machine, where it waits for a descheduled thread (a scheduler tick or
// more: 4-8 ms at n = 2^16 on the loaded 2-core VM).
constexpr std::int64_t kParallelCheck = std::int64_t{1} << 20;

// Anchors (over the sides that need it) up to which the radix sorts run on
// one thread. At n = m = 2^16 two threads took the plan from 3.4-4.1 to
// 2.3-2.6 ms (2026-12-08, alternating builds, VM idle; at 2^17 an earlier
// day measured 5.3 -> 3.7). On a busy machine a parallel region can wait
// for a descheduled thread (4-8 ms was seen at 2^16 on a loaded VM), but so
// does the forward's own, which follows.
constexpr std::int64_t kParallelSort = std::int64_t{1} << 16;

}  // namespace

void LaplexScratchPool::Free::operator()(std::byte* p) const {
  ::operator delete[](p, std::align_val_t(std::size_t{2} << 20));
}

template <class T>
LaplexPlan<T> make_laplex_plan(const LaplexShape& shape, const T* t, const T* s,
                               std::shared_ptr<LaplexScratchPool> scratch) {
  check_laplex_shape(shape);
  const auto start = std::chrono::steady_clock::now();
  const std::int64_t m = shape.m, n = shape.n, heads = shape.heads, events = m + n;
  check((m == 0 || t) && (n == 0 || s), "laplex: missing anchors t or s");

  LaplexPlan<T> plan;
  plan.m = m;
  plan.n = n;
  plan.heads = heads;
  if (scratch) plan.scratch = std::move(scratch);
  plan.code.resize(static_cast<std::size_t>(heads * events));
  plan.gap.resize(static_cast<std::size_t>(heads * events));

  // Sources and targets of every head sort independently (2H jobs), then
  // each head merges its two sorted lists. The items live in the pool's
  // buffer (two per side, each with a sentinel): fresh pages cost a fault
  // and a clear each, which was a tenth of the sort at n = 2^16.
  const std::int64_t jobs = 2 * heads;
  std::vector<std::int64_t> offset(static_cast<std::size_t>(jobs + 1), 0);
  for (std::int64_t job = 0; job < jobs; ++job)
    offset[job + 1] = offset[job] + (job % 2 == 0 ? n : m) + 1;
  const std::int64_t items = offset[jobs];
  cpu::lanes::ThreadScratch scratch_items(*plan.scratch, 1);
  Item<T>* buffer = scratch_items.get<Item<T>>(
      0, 2 * sizeof(Item<T>) * static_cast<std::size_t>(items), LaplexScratchPool::kSort);
  std::vector<const Item<T>*> sorted(static_cast<std::size_t>(jobs), nullptr);
  std::vector<SideOrder> order(static_cast<std::size_t>(jobs));
  auto side = [&](std::int64_t job) {
    return job % 2 == 0 ? s + job / 2 * n : t + job / 2 * m;
  };
  auto side_size = [&](std::int64_t job) { return job % 2 == 0 ? n : m; };
  // First the check passes, then radix sorts only where a side is out of
  // order: anchors that training keeps in order need no sort, and then no
  // parallel region either.
#pragma omp parallel for schedule(dynamic, 1) if (heads * events > kParallelCheck)
  for (std::int64_t job = 0; job < jobs; ++job) {
    Item<T>* a = buffer + offset[job];
    order[job] = load_side(side(job), side_size(job), a, a + items);
    sorted[job] = a;
  }
  for (std::int64_t h = 0; h < heads; ++h)
    check(order[2 * h + 1] != SideOrder::kNotFinite,
          "laplex: the target anchors t contain a NaN or an infinity");
  for (std::int64_t h = 0; h < heads; ++h)
    check(order[2 * h] != SideOrder::kNotFinite,
          "laplex: the source anchors s contain a NaN or an infinity");
  std::vector<std::int64_t> unsorted;
  std::int64_t unsorted_anchors = 0;
  for (std::int64_t job = 0; job < jobs; ++job)
    if (order[job] == SideOrder::kUnsorted) {
      unsorted.push_back(job);
      unsorted_anchors += side_size(job);
    }
  const auto sorts = static_cast<std::int64_t>(unsorted.size());
#pragma omp parallel for schedule(dynamic, 1) if (sorts > 1 && unsorted_anchors > kParallelSort)
  for (std::int64_t u = 0; u < sorts; ++u) {
    const std::int64_t job = unsorted[u];
    Item<T>* a = buffer + offset[job];
    sorted[job] = radix_sort(side_size(job), a, a + items);
  }

#pragma omp parallel for schedule(dynamic, 1) if (heads > 1 && heads * events > (1 << 15))
  for (std::int64_t h = 0; h < heads; ++h)
    merge_sides(sorted[2 * h], n, sorted[2 * h + 1], m, plan.code.data() + h * events,
                plan.gap.data() + h * events);
  plan.sort_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  return plan;
}

template LaplexPlan<float> make_laplex_plan(const LaplexShape&, const float*, const float*,
                                            std::shared_ptr<LaplexScratchPool>);
template LaplexPlan<double> make_laplex_plan(const LaplexShape&, const double*, const double*,
                                             std::shared_ptr<LaplexScratchPool>);

}  // namespace laplex
