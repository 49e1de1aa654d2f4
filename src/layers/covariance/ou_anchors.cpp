#include "layers/covariance/ou_anchors.h"

#include "core/ops/sort.h"

namespace laplex {

std::vector<double> ou_initial_anchors(std::int64_t n, const ImageShape& image,
                                       const std::string& order, Generator& generator) {
  const auto [channels, height, width] = image;
  if (channels * height * width != n) throw Error("ou_initial_anchors: image does not match n");
  std::vector<std::int64_t> rank(n);
  if (order == "random") {
    // The ranks of n uniform draws: a uniformly random permutation.
    const auto r = argsort(rand({n}, generator, DType::f64)).to_vector<std::int64_t>();
    for (std::int64_t k = 0; k < n; ++k) rank[r[k]] = k;
  } else if (order == "raster" || order == "serpentine") {
    std::int64_t next = 0;
    for (std::int64_t c = 0; c < channels; ++c)
      for (std::int64_t h = 0; h < height; ++h)
        for (std::int64_t step = 0; step < width; ++step) {
          const std::int64_t w = (order == "serpentine" && h % 2 == 1) ? width - 1 - step : step;
          rank[(c * height + h) * width + w] = next++;
        }
  } else {
    throw Error("ou_initial_anchors: unknown order " + order);
  }
  std::vector<double> t(n);
  const double centre = 0.5 * static_cast<double>(n - 1);
  for (std::int64_t i = 0; i < n; ++i) t[i] = static_cast<double>(rank[i]) - centre;
  return t;
}

}  // namespace laplex
