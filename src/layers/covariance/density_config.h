#pragma once
// What every density model reads from YAML besides its own keys:
// `dims: n` and the optional `image: [C, H, W]` (C*H*W must equal dims).
#include <optional>

#include "config/config_node.h"
#include "layers/covariance/density_model.h"

namespace laplex {

struct DensityShape {
  std::int64_t dims = 0;
  std::optional<ImageShape> image;
};

// The largest `dims` a config may ask for: anchors are indexed by 32-bit
// integers in the sorts (and 2^31 dimensions take 32 GiB of parameters).
inline constexpr std::int64_t kDensityMaxDims = (std::int64_t{1} << 31) - 1;

// Reads dims (in [1, kDensityMaxDims]) and image; UsageErrors name the key,
// file and line.
DensityShape read_density_shape(config::ConfigNode& node);

// The start of every model's scale and mean: `scale_init` (in
// [kMinScaleInit, kMaxScaleInit], default 1) and `mean_init` (|.| <=
// kMaxMeanInit, default 0). The models see pixel values in [0, 1]; outside
// these bounds the float32 squares and log-determinants underflow or
// overflow, and training runs on NaN from its first step.
inline constexpr double kMinScaleInit = 1e-6, kMaxScaleInit = 1e6, kMaxMeanInit = 1e6;
struct DensityInit {
  double scale = 1.0, mean = 0.0;
};
DensityInit read_density_init(config::ConfigNode& node);

// softplus^-1(y) for y > 0, stable for small and large y: initialises raw
// parameters so that softplus(raw) starts at y.
double inverse_softplus(double y);

}  // namespace laplex
