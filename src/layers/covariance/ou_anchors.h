#pragma once
// Initial LAPLEX-OU anchors from the pixel grid. Each flattened index i
// (C-major: i = c*H*W + h*W + w) gets a rank in a visiting order, and
// t_i = rank - (n - 1)/2: unit spacing, centred on 0 (the centre halves the
// largest |t| and so doubles float32's resolution of the gaps; at n = 3e6
// the gap resolution is still only 1/8 unit, a float32 limit). Beyond
// n = 2^25 (3.4e7) float32 cannot hold unit gaps at all (|t| > 2^24 rounds
// to even integers and coarser), so neighbours tie and their 1 - r^2 is
// clamped: such models are only good for timing, or need float64 anchors.
//   raster:     channel by channel (plane c after plane c - 1), each plane's
//               rows top to bottom, each row left to right: horizontal
//               neighbours at distance 1, vertical ones at W. Channels go
//               plane by plane because the colours of one pixel differ
//               systematically (a green meadow is not red): on a photograph
//               the chain R, G, B, R, ... steps by 0.33 in std, the chain of
//               one channel's neighbours by 0.021, and the OU chain scores
//               exactly those steps; the index order is the raster order;
//   serpentine: the same with every odd row right to left, so consecutive
//               pixels in the order are always spatially adjacent (no jump
//               from a row's end back to the next row's start);
//   random:     a random permutation of the ranks (a structure-free start).
// Without an image, the grid is (1, 1, n): index order.
#include <string>
#include <vector>

#include "core/random.h"
#include "layers/covariance/density_model.h"

namespace laplex {

std::vector<double> ou_initial_anchors(std::int64_t n, const ImageShape& image,
                                       const std::string& order, Generator& generator);

}  // namespace laplex
