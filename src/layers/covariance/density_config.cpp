#include "layers/covariance/density_config.h"

#include <cmath>
#include <string>
#include <vector>

namespace laplex {

DensityShape read_density_shape(config::ConfigNode& node) {
  DensityShape shape;
  shape.dims = node.get<std::int64_t>("dims");
  if (shape.dims < 1 || shape.dims > kDensityMaxDims)
    node.fail("dims", "must be in [1, " + std::to_string(kDensityMaxDims) + "]");
  if (node.has("image")) {
    const auto image = node.get<std::vector<std::int64_t>>("image");
    if (image.size() != 3 || image[0] < 1 || image[1] < 1 || image[2] < 1)
      node.fail("image", "must be [C, H, W] with positive entries");
    std::int64_t pixels = 0, values = 0;
    if (__builtin_mul_overflow(image[0], image[1], &pixels) ||
        __builtin_mul_overflow(pixels, image[2], &values) || values != shape.dims)
      node.fail("image", "C*H*W must equal dims = " + std::to_string(shape.dims));
    shape.image = ImageShape{image[0], image[1], image[2]};
  }
  return shape;
}

DensityInit read_density_init(config::ConfigNode& node) {
  DensityInit init;
  init.scale = node.get_or<double>("scale_init", init.scale);
  init.mean = node.get_or<double>("mean_init", init.mean);
  if (!(init.scale >= kMinScaleInit && init.scale <= kMaxScaleInit))
    node.fail("scale_init", "must be in [1e-6, 1e6] (pixel values are in [0, 1])");
  if (!(std::abs(init.mean) <= kMaxMeanInit))
    node.fail("mean_init", "must be in [-1e6, 1e6] (pixel values are in [0, 1])");
  return init;
}

double inverse_softplus(double y) { return y > 30 ? y : std::log(std::expm1(y)); }

}  // namespace laplex
