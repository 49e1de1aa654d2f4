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

// Reads dims (>= 1) and image; UsageErrors name the key, file and line.
DensityShape read_density_shape(config::ConfigNode& node);

// softplus^-1(y) for y > 0, stable for small and large y: initialises raw
// parameters so that softplus(raw) starts at y.
double inverse_softplus(double y);

}  // namespace laplex
