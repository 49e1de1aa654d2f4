#pragma once
// The sorting permutation of the anchors, in the order the engine's stable
// argsort gives (ascending, ties in index order, -0.0 == +0.0), computed on
// the CPU in O(n) memory passes: an LSD radix sort on the float bits
// (3 passes of 11 bits for float32, 6 for float64). Training moves anchors
// little per step, so a cached permutation is first checked in one parallel
// O(n) pass and reused while it still sorts the anchors: most steps sort
// nothing.
#include <cstdint>
#include <memory>
#include <vector>

namespace laplex {

using AnchorPermutation = std::shared_ptr<const std::vector<std::int64_t>>;

// The permutation sorting t[0..n). Returns `cached` itself when it still
// sorts t, else a new one (the old one is never modified: a pending backward
// may hold it).
template <class T>
AnchorPermutation sort_anchors(const T* t, std::int64_t n, const AnchorPermutation& cached);

// True when perm lists t in ascending order with ties in index order.
template <class T>
bool sorts_anchors(const T* t, std::int64_t n, const std::vector<std::int64_t>& perm);

}  // namespace laplex
