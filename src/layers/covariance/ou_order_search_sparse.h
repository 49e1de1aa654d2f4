#pragma once
// The anchor order search of ou_order_search.h at sizes where the n x n
// pair costs do not fit (dims > kOuOrderSearchMaxDims; the photographs'
// 3·10^6 pixels): the same path cost, 0.5 log(1 - max(c, 0)^2) per pair of
// consecutive anchors, but only pairs among each dimension's most
// correlated dimensions (ou_correlation_neighbours.h) are ever links.
//
// The path is built the way large travelling-salesman tours are:
// 1. greedy matching: every candidate pair, best first, becomes a link when
//    both ends still have a free side and it closes no cycle; this leaves
//    path fragments;
// 2. joining: the same on the fragments' ends alone (their own neighbour
//    lists), a few rounds, until one fragment is left or no round joins any;
//    what is left is concatenated (those links cost 0: no information);
// 3. 2-opt: linking an anchor to a candidate and reversing the stretch
//    between them (on the path closed into a cycle through a virtual end,
//    the shorter side; at most 50 000 anchors), while that lowers the cost;
// 4. Or-opt on the linked path: moving a stretch of 1 to 3 anchors, either
//    way round, next to one of its ends' candidates, likewise.
// In 3 and 4 a move is tried only when its new link beats the one it
// breaks, and a queue of the anchors next to the last changes keeps each
// pass O(n k). Measured (tests, laplex-bench order-search): 0.02-0.12% above
// the exact search's cost where both run.
// The result is compared with the start's cost and never worse. Memory,
// bytes per dimension: 4 (rows rounded up to 8) for the points, 8 k for the
// lists, another 8 k during a neighbour-of-neighbour round, up to 12 k for
// the candidate pairs while matching, and the path's arrays: 532-637 in all
// at 64 rows (laplex-bench order-search).
#include <cstdint>
#include <vector>

#include "layers/covariance/ou_correlation_neighbours.h"
#include "layers/covariance/ou_order_search.h"

namespace laplex {

struct OuSparseSearchOptions {
  OuNeighbourOptions neighbours;  // for the whole set
  int join_rounds = 6;
  // Or-opt stops after this many improving moves per dimension (a bound on
  // time where gains are tiny; measured runs end well before it).
  std::int64_t max_moves_per_dim = 20;
};

// The path cost of `order` (a permutation of 0..n) with the clamp `eps`.
double ou_sparse_path_cost(const OuPoints& points, const std::vector<std::int64_t>& order, double eps);

// `sweeps` counts the joining rounds run; `converged` is true when the
// Or-opt queue emptied before the move cap.
OuOrderSearchResult ou_order_search_sparse(const OuPoints& points, std::vector<std::int64_t> start,
                                           const OuSparseSearchOptions& options, double eps);

}  // namespace laplex
