#include "layers/covariance/anchor_order.h"

#include <array>
#include <cstring>
#include <type_traits>

#include "core/error.h"

namespace laplex {

namespace {

// Unsigned keys whose order is the floats' order (-0.0 mapped to +0.0).
template <class T>
auto sortable_key(T value) {
  using U = std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>;
  if (value == T(0)) value = T(0);
  U bits;
  std::memcpy(&bits, &value, sizeof(T));
  constexpr U sign = U(1) << (8 * sizeof(T) - 1);
  return (bits & sign) ? U(~bits) : U(bits | sign);
}

// 32-bit indices keep an item at 8 bytes for float32 (n < 2^32 is checked).
template <class U>
struct Item {
  U key;
  std::uint32_t index;
};

}  // namespace

template <class T>
bool sorts_anchors(const T* t, std::int64_t n, const std::vector<std::int64_t>& perm) {
  if (static_cast<std::int64_t>(perm.size()) != n) return false;
  bool ok = true;
#pragma omp parallel for reduction(&& : ok) if (n > (1 << 16))
  for (std::int64_t k = 1; k < n; ++k) {
    const std::int64_t i = perm[k - 1], j = perm[k];
    const T a = t[i], b = t[j];
    // NaN compares false both ways: such anchors never count as sorted.
    ok = ok && (a < b || (a == b && i < j));
  }
  // A cached list of the right length could still repeat an index only if t
  // changed length, which the length check excludes; its entries came from a sort.
  return ok;
}

template <class T>
AnchorPermutation sort_anchors(const T* t, std::int64_t n, const AnchorPermutation& cached) {
  if (cached && sorts_anchors(t, n, *cached)) return cached;
  using U = decltype(sortable_key(T(0)));
  constexpr int kBits = 11, kBuckets = 1 << kBits;
  constexpr int kPasses = (8 * sizeof(U) + kBits - 1) / kBits;
  if (n >= (std::int64_t{1} << 32)) throw Error("sort_anchors: n must be < 2^32");
  std::vector<Item<U>> a(n), b(n);
  for (std::int64_t i = 0; i < n; ++i) a[i] = {sortable_key(t[i]), static_cast<std::uint32_t>(i)};
  // Stable counting passes from the lowest digit up: equal keys keep index order.
  for (int pass = 0; pass < kPasses; ++pass) {
    const int shift = pass * kBits;
    std::array<std::int64_t, kBuckets> count{};
    for (const auto& item : a) ++count[(item.key >> shift) & (kBuckets - 1)];
    bool trivial = false;
    for (std::int64_t c : count) trivial = trivial || c == n;
    if (trivial) continue;  // every key has this digit: nothing moves
    std::int64_t start = 0;
    for (auto& c : count) {
      const std::int64_t here = c;
      c = start;
      start += here;
    }
    for (const auto& item : a) b[count[(item.key >> shift) & (kBuckets - 1)]++] = item;
    a.swap(b);
  }
  b.clear();
  b.shrink_to_fit();
  auto perm = std::make_shared<std::vector<std::int64_t>>(n);
  for (std::int64_t k = 0; k < n; ++k) (*perm)[k] = a[k].index;
  return perm;
}

template AnchorPermutation sort_anchors<float>(const float*, std::int64_t,
                                               const AnchorPermutation&);
template AnchorPermutation sort_anchors<double>(const double*, std::int64_t,
                                                const AnchorPermutation&);
template bool sorts_anchors<float>(const float*, std::int64_t, const std::vector<std::int64_t>&);
template bool sorts_anchors<double>(const double*, std::int64_t, const std::vector<std::int64_t>&);

}  // namespace laplex
