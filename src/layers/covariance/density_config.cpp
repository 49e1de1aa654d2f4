#include "layers/covariance/density_config.h"

#include <cmath>
#include <string>
#include <vector>

namespace laplex {

DensityShape read_density_shape(config::ConfigNode& node) {
  DensityShape shape;
  shape.dims = node.get<std::int64_t>("dims");
  if (shape.dims < 1) node.fail("dims", "must be >= 1");
  if (node.has("image")) {
    const auto image = node.get<std::vector<std::int64_t>>("image");
    if (image.size() != 3 || image[0] < 1 || image[1] < 1 || image[2] < 1)
      node.fail("image", "must be [C, H, W] with positive entries");
    if (image[0] * image[1] * image[2] != shape.dims)
      node.fail("image", "C*H*W = " + std::to_string(image[0] * image[1] * image[2]) +
                             " differs from dims = " + std::to_string(shape.dims));
    shape.image = ImageShape{image[0], image[1], image[2]};
  }
  return shape;
}

double inverse_softplus(double y) { return y > 30 ? y : std::log(std::expm1(y)); }

}  // namespace laplex
