#include "layers/covariance/density_model.h"

#include <cmath>
#include <string>

namespace laplex {

void DensityModel::set_image_shape(const ImageShape& image) {
  if (image[0] < 1 || image[1] < 1 || image[2] < 1 || image[0] * image[1] * image[2] != dims())
    throw UsageError(type_name() + ": image: [C, H, W] must be positive with C*H*W = dims = " +
                     std::to_string(dims()));
  image_ = image;
}

void DensityModel::check_input(const Tensor& x, const Tensor& like) const {
  if (x.dim() != 2 || x.size(1) != dims())
    throw Error(type_name() + ".nll: x must be (B, " + std::to_string(dims()) + "), got " +
                x.str());
  if (x.dtype() != like.dtype() || x.device() != like.device())
    throw Error(type_name() + ".nll: x is " + x.str() + " but the parameters are " + like.str());
}

double bits_per_dimension(double nll, std::int64_t n) {
  const double dims = static_cast<double>(n);
  return (nll + dims * std::log(256.0)) / (dims * std::log(2.0));
}

}  // namespace laplex
