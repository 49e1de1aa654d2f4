#pragma once
// The few dimensions each dimension correlates with most, found without
// the n x n correlations: the candidate links of the order search at sizes
// where those do not fit (ou_order_search_sparse.h; 3·10^6 pixels would
// need 72 TB).
//
// Each dimension becomes a point: its column of the sample, centred and
// scaled to unit length, so the dot product of two points is their sample
// correlation and the most correlated dimensions are the nearest points.
// Pixels of an image lie near a low-dimensional surface in that space (a
// pixel resembles its neighbours), which is where random projection trees
// find near neighbours well: each tree halves its points recursively at the
// median of their projection on the line through two of them, down to
// leaves of at most kOuNeighbourLeafSize points, and compares every pair in
// a leaf (wide points split on a 64-value sketch; the leaves compare the
// exact points). Several trees catch neighbours that one split apart; a round of
// neighbour-of-neighbour comparisons then fills in what the trees missed
// (a pixel's neighbour's neighbours are mostly its own).
#include <cstdint>
#include <vector>

#include "core/tensor.h"

namespace laplex {

constexpr std::int64_t kOuNeighbourLeafSize = 64;

// Dimension i's standardised column, padded with zeros to `width` values.
struct OuPoints {
  std::int64_t n = 0;
  std::int64_t width = 0;     // the sample's rows, rounded up to a multiple of 8
  std::vector<float> values;  // n x width; all zero for a constant dimension
  const float* point(std::int64_t i) const { return values.data() + i * width; }
  // The sample correlation of dimensions a and b (0 when either is constant).
  float correlation(std::int64_t a, std::int64_t b) const;
};

// From a sample (rows >= 2, n) on any device and dtype. n must fit in int32.
OuPoints ou_points(const Tensor& sample);
// The points `ids` of `points`, in that order (point k of the result is ids[k]).
OuPoints ou_points_subset(const OuPoints& points, const std::vector<std::int32_t>& ids);

struct OuNeighbours {
  std::int64_t n = 0;
  int k = 0;
  // Row i: the k most correlated dimensions found for i, best first; -1
  // (correlation -inf) where fewer than k were found.
  std::vector<std::int32_t> index;
  std::vector<float> correlation;
  const std::int32_t* of(std::int64_t i) const { return index.data() + i * k; }
  const float* correlation_of(std::int64_t i) const { return correlation.data() + i * k; }
};

struct OuNeighbourOptions {
  int k = 10;
  // Measured on a planted chain (24576 dimensions, 64 rows): 4 trees and 1
  // round hold 80% of its links in the lists, 8 trees and 2 rounds 99.3%.
  int trees = 8;
  int refine_rounds = 2;  // neighbour-of-neighbour rounds after the trees
  std::uint64_t seed = 0;
};

// Approximate: a true neighbour can be missed (tests measure the recall
// against the exact lists). Deterministic for a seed, whatever the thread count.
OuNeighbours ou_correlation_neighbours(const OuPoints& points, const OuNeighbourOptions& options);

// The exact lists by comparing all pairs: O(n^2), for tests.
OuNeighbours ou_correlation_neighbours_exact(const OuPoints& points, int k);

}  // namespace laplex
