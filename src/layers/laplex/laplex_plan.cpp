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

// One side of one head, sorted: keys ascending, ties in index order.
template <class T>
struct SortedSide {
  std::vector<KeyOf<T>> key;
  std::vector<std::uint32_t> index;
};

// LSD radix sort, 8 bits a pass, stable (so equal keys keep index order);
// passes where every key has the same digit are skipped.
template <class T>
void sort_side(const T* positions, std::int64_t count, SortedSide<T>& out) {
  using K = KeyOf<T>;
  constexpr int kPasses = sizeof(K);
  const auto size = static_cast<std::size_t>(count);
  out.key.resize(size);
  out.index.resize(size);
  bool sorted = true;
  for (std::size_t i = 0; i < size; ++i) {
    out.key[i] = to_key(positions[i]);
    out.index[i] = static_cast<std::uint32_t>(i);
    if (i > 0 && out.key[i] < out.key[i - 1]) sorted = false;
  }
  // Anchors that training keeps in order need no sort at all.
  if (sorted) return;
  std::vector<std::array<std::size_t, 256>> histogram(kPasses);
  for (auto& h : histogram) h.fill(0);
  for (std::size_t i = 0; i < size; ++i)
    for (int d = 0; d < kPasses; ++d) ++histogram[d][(out.key[i] >> (8 * d)) & 0xff];
  std::vector<K> key(size);
  std::vector<std::uint32_t> index(size);
  for (int d = 0; d < kPasses; ++d) {
    auto& h = histogram[d];
    if (h[(out.key[0] >> (8 * d)) & 0xff] == size) continue;
    std::size_t offset = 0;
    for (auto& bucket : h) {
      const std::size_t c = bucket;
      bucket = offset;
      offset += c;
    }
    for (std::size_t i = 0; i < size; ++i) {
      const std::size_t at = h[(out.key[i] >> (8 * d)) & 0xff]++;
      key[at] = out.key[i];
      index[at] = out.index[i];
    }
    out.key.swap(key);
    out.index.swap(index);
  }
}

template <class T>
bool all_finite(const T* values, std::int64_t count) {
  bool ok = true;
#pragma omp parallel for reduction(&& : ok) schedule(static) if (count > (1 << 16))
  for (std::int64_t i = 0; i < count; ++i) ok = ok && std::isfinite(values[i]);
  return ok;
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
  check(all_finite(t, heads * m), "laplex: the target anchors t contain a NaN or an infinity");
  check(all_finite(s, heads * n), "laplex: the source anchors s contain a NaN or an infinity");

  LaplexPlan<T> plan;
  plan.m = m;
  plan.n = n;
  plan.heads = heads;
  if (scratch) plan.scratch = std::move(scratch);
  plan.code.resize(static_cast<std::size_t>(heads * events));
  plan.gap.resize(static_cast<std::size_t>(heads * events));

  // Sources and targets of every head sort independently (2H jobs), then
  // each head merges its two sorted lists.
  std::vector<SortedSide<T>> sorted(static_cast<std::size_t>(2 * heads));
#pragma omp parallel for schedule(dynamic, 1) if (heads * events > (1 << 15))
  for (std::int64_t job = 0; job < 2 * heads; ++job) {
    const std::int64_t h = job / 2;
    if (job % 2 == 0)
      sort_side(s + h * n, n, sorted[job]);
    else
      sort_side(t + h * m, m, sorted[job]);
  }

#pragma omp parallel for schedule(dynamic, 1) if (heads > 1 && heads * events > (1 << 15))
  for (std::int64_t h = 0; h < heads; ++h) {
    const SortedSide<T>& src = sorted[2 * h];
    const SortedSide<T>& tgt = sorted[2 * h + 1];
    std::uint32_t* code = plan.code.data() + h * events;
    T* gap = plan.gap.data() + h * events;
    const std::size_t n_src = src.key.size(), n_tgt = tgt.key.size();
    std::size_t a = 0, b = 0;
    T previous = T(0);
    for (std::int64_t k = 0; k < events; ++k) {
      // At equal positions the source goes first.
      const bool take_source = b == n_tgt || (a < n_src && src.key[a] <= tgt.key[b]);
      KeyOf<T> key;
      if (take_source) {
        key = src.key[a];
        code[k] = src.index[a++];
      } else {
        key = tgt.key[b];
        code[k] = tgt.index[b++] | kLaplexTargetBit;
      }
      const T position = from_key<T>(key);
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
