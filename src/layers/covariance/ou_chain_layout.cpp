#include "layers/covariance/ou_chain_layout.h"

#include <algorithm>
#include <cstdlib>
#include <numeric>

#include "core/error.h"

namespace laplex {

OuChainLayout ou_chain_layout(const std::vector<float>& t, const ImageShape& image) {
  const std::int64_t n = static_cast<std::int64_t>(t.size());
  const std::int64_t plane = image[1] * image[2], width = image[2];
  check(image[0] * plane == n, "ou_chain_layout: the image does not hold the anchors");
  std::vector<std::int64_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](auto a, auto b) { return t[a] < t[b]; });
  OuChainLayout layout;
  layout.links = std::max<std::int64_t>(n - 1, 0);
  for (std::int64_t k = 1; k < n; ++k) {
    const std::int64_t a = order[k - 1], b = order[k];
    if (a / plane != b / plane) {
      if (a % plane == b % plane) ++layout.channel_links;
      continue;
    }
    const std::int64_t dy = std::llabs((a % plane) / width - (b % plane) / width);
    const std::int64_t dx = std::llabs(a % width - b % width);
    if (dy + dx == 1) ++layout.grid_links;
    if (dy == 1 && dx == 1) ++layout.diagonal_links;
  }
  return layout;
}

}  // namespace laplex
