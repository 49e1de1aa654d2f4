#pragma once
// How much of a LAPLEX-OU chain follows the pixel grid: of the n - 1 links
// between consecutive sorted anchors, how many join pixels that touch on
// the image (same channel plane, one step apart). A random order links
// about 4 / n of its pairs that way, a raster order (W - 1) / W; a model
// started from a random order that reaches a raster-like fraction has
// learned the image's layout from the data alone.
#include <cstdint>
#include <vector>

#include "layers/covariance/density_model.h"

namespace laplex {

struct OuChainLayout {
  std::int64_t links = 0;           // n - 1
  std::int64_t grid_links = 0;      // 4-neighbours: one step along a row or a column
  std::int64_t diagonal_links = 0;  // one step along both
  std::int64_t channel_links = 0;   // the same pixel in two channels
  double grid_fraction() const { return links > 0 ? static_cast<double>(grid_links) / links : 0.0; }
};

// t in flattened (C, H, W) index order; ties sort in index order.
OuChainLayout ou_chain_layout(const std::vector<float>& t, const ImageShape& image);

}  // namespace laplex
