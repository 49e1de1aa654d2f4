#include "layers/laplex/laplex_plan.h"

#include <omp.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <type_traits>
#include <chrono>
#include <cmath>

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

// One side of one head sorted into `out`: keys ascending, ties in index
// order. LSD radix sort, 8 bits a pass, stable (so equal keys keep index
// order); passes where every key has the same digit are skipped. `spare`
// is the second buffer the passes alternate with. Returns false (unsorted)
// when a position is NaN or infinite: checking here, in the pass that reads
// them anyway, saves a pass and a parallel region per side.
template <class T>
bool sort_side(const T* positions, std::int64_t count, std::vector<Item<T>>& out,
               std::vector<Item<T>>& spare) {
  using K = KeyOf<T>;
  constexpr int kPasses = sizeof(K);
  const auto size = static_cast<std::size_t>(count);
  out.resize(size);
  if (size == 0) return true;
  std::array<std::array<std::uint32_t, 256>, kPasses> histogram{};
  bool sorted = true, finite = true;
  K previous = 0;
  for (std::size_t i = 0; i < size; ++i) {
    finite = finite && std::isfinite(positions[i]);
    const K key = to_key(positions[i]);
    out[i] = make_item<T>(key, static_cast<std::uint32_t>(i));
    sorted = sorted && key >= previous;
    previous = key;
  }
  // Anchors that training keeps in order need no sort at all.
  if (sorted || !finite) return finite;
  for (std::size_t i = 0; i < size; ++i) {
    const K key = key_of(out[i]);
    for (int d = 0; d < kPasses; ++d) ++histogram[d][(key >> (8 * d)) & 0xff];
  }
  spare.resize(size);
  const K first = key_of(out[0]);
  for (int d = 0; d < kPasses; ++d) {
    auto& h = histogram[d];
    if (h[(first >> (8 * d)) & 0xff] == size) continue;
    std::uint32_t offset = 0;
    for (auto& bucket : h) {
      const std::uint32_t c = bucket;
      bucket = offset;
      offset += c;
    }
    const Item<T>* from = out.data();
    Item<T>* to = spare.data();
    for (std::size_t i = 0; i < size; ++i) {
      const Item<T> item = from[i];
      to[h[(key_of(item) >> (8 * d)) & 0xff]++] = item;
    }
    out.swap(spare);
  }
  return true;
}

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
  // each head merges its two sorted lists.
  std::vector<std::vector<Item<T>>> sorted(static_cast<std::size_t>(2 * heads));
  std::vector<char> finite(static_cast<std::size_t>(2 * heads));
#pragma omp parallel if (heads * events > (1 << 15))
  {
    std::vector<Item<T>> spare;
    // nowait: the region's end is the one barrier. On a busy machine each
    // barrier waits for a descheduled thread: a second one doubled the
    // sort at n = 2^16 (8 -> 16 ms, a scheduler tick each).
#pragma omp for schedule(dynamic, 1) nowait
    for (std::int64_t job = 0; job < 2 * heads; ++job) {
      const std::int64_t h = job / 2;
      finite[job] = job % 2 == 0 ? sort_side(s + h * n, n, sorted[job], spare)
                                 : sort_side(t + h * m, m, sorted[job], spare);
    }
  }
  for (std::int64_t h = 0; h < heads; ++h)
    check(finite[2 * h + 1] != 0, "laplex: the target anchors t contain a NaN or an infinity");
  for (std::int64_t h = 0; h < heads; ++h)
    check(finite[2 * h] != 0, "laplex: the source anchors s contain a NaN or an infinity");

#pragma omp parallel for schedule(dynamic, 1) if (heads > 1 && heads * events > (1 << 15))
  for (std::int64_t h = 0; h < heads; ++h) {
    // An empty side reads a stand-in (never taken), so both loads of the
    // select below are always valid.
    const Item<T> none{};
    const Item<T>* src = n > 0 ? sorted[2 * h].data() : &none;
    const Item<T>* tgt = m > 0 ? sorted[2 * h + 1].data() : &none;
    std::uint32_t* code = plan.code.data() + h * events;
    T* gap = plan.gap.data() + h * events;
    const std::size_t n_src = static_cast<std::size_t>(n), n_tgt = static_cast<std::size_t>(m);
    std::size_t a = 0, b = 0;
    T previous = T(0);
    for (std::int64_t k = 0; k < events; ++k) {
      // At equal positions the source goes first. Sources and targets
      // interleave at random, so the choice is a select, not a branch.
      const bool take_source = b == n_tgt || (a < n_src && key_of(src[a]) <= key_of(tgt[b]));
      const Item<T> item = take_source ? src[a < n_src ? a : 0] : tgt[b < n_tgt ? b : 0];
      a += take_source;
      b += !take_source;
      const T position = from_key<T>(key_of(item));
      code[k] = index_of(item) | (take_source ? 0u : kLaplexTargetBit);
      gap[k] = k == 0 ? T(0) : position - previous;
      previous = position;
    }
  }
  plan.sort_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  return plan;
}

template LaplexPlan<float> make_laplex_plan(const LaplexShape&, const float*, const float*,
                                            std::shared_ptr<LaplexScratchPool>);
template LaplexPlan<double> make_laplex_plan(const LaplexShape&, const double*, const double*,
                                             std::shared_ptr<LaplexScratchPool>);

}  // namespace laplex
