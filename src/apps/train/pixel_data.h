#pragma once
// The 8-bit images a covariance run fits, as a train and a test dataset whose
// examples are pixel values 0..255 (float32, no labels). In-memory sets
// (Fashion-MNIST, generated rows) ignore the epoch; photograph crops draw new
// crop positions every epoch for training and keep fixed ones for the test
// split, cut from photographs that training never sees.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "apps/train/train_config.h"
#include "core/tensor.h"
#include "data/dataset.h"

namespace laplex::train {

struct PixelData {
  std::shared_ptr<const data::Dataset> train, test;
  std::string description;
};

// The datasets config.data names (fashion_mnist, synthetic or photos).
PixelData load_pixel_data(const DataConfig& config, std::uint64_t seed);

}  // namespace laplex::train
