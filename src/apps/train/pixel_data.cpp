#include "apps/train/pixel_data.h"

#include <algorithm>
#include <cmath>

#include "core/random.h"
#include "data/idx.h"
#include "data/image_crop_dataset.h"
#include "data/image_files.h"
#include "data/tensor_dataset.h"

namespace laplex::train {

namespace {

// [0, 1] images stored as p / 255 back to the integers p.
Tensor to_pixel_values(const Tensor& unit_images) {
  Tensor out = unit_images.contiguous().clone();
  float* p = out.data<float>();
  for (std::int64_t i = 0; i < out.numel(); ++i) p[i] = std::round(p[i] * 255.0f);
  return out;
}

// Smooth random 8-bit rows: each a stationary AR(1) sequence (correlation
// 0.9 between neighbours) around mid-grey, rounded and clipped, so a model
// with spatial structure beats independent pixels by a margin.
Tensor synthetic_pixels(std::int64_t count, std::int64_t dims, std::uint64_t seed) {
  Generator rng(seed);
  const Tensor noise = randn({count, dims}, rng, DType::f32);
  Tensor out = Tensor::empty({count, dims});
  const float* e = noise.data<float>();
  float* p = out.data<float>();
  const double r = 0.9, innovation = std::sqrt(1.0 - r * r);
  for (std::int64_t i = 0; i < count; ++i) {
    double y = e[i * dims];
    for (std::int64_t j = 0; j < dims; ++j) {
      if (j > 0) y = r * y + innovation * e[i * dims + j];
      p[i * dims + j] = static_cast<float>(std::clamp(std::round(128.0 + 40.0 * y), 0.0, 255.0));
    }
  }
  return out;
}

PixelData photos(const DataConfig& config, std::uint64_t seed) {
  const auto files = data::list_image_files(config.root);
  if (static_cast<std::int64_t>(files.size()) < config.test_every)
    throw UsageError(config.root + ": " + std::to_string(files.size()) +
                     " photographs, but data.test_every " + std::to_string(config.test_every) +
                     " holds out one in every " + std::to_string(config.test_every) +
                     " for the test split: it needs at least that many");
  const auto split = data::split_photos(files, config.test_every);
  data::ImageCropOptions o;
  o.crop_height = config.crop_height;
  o.crop_width = config.crop_width;
  o.channels = config.channels == 0 ? 3 : static_cast<int>(config.channels);
  o.crops_per_epoch = config.train_crops;
  o.seed = derive_seed(seed, 2101);
  PixelData data;
  data.train = std::make_shared<data::ImageCropDataset>(split.train, o);
  o.crops_per_epoch = config.test_crops;
  o.seed = derive_seed(seed, 2102);
  o.fixed = true;
  data.test = std::make_shared<data::ImageCropDataset>(split.test, o);
  data.description = "crops of " + std::to_string(split.train.size()) + " train / " +
                     std::to_string(split.test.size()) + " test photographs in " + config.root;
  return data;
}

}  // namespace

PixelData load_pixel_data(const DataConfig& config, std::uint64_t seed) {
  if (!config.mean.empty())
    throw UsageError("data.mean: task covariance models raw pixels; remove mean/std");
  if (config.random_crop > 0 || config.hflip)
    throw UsageError(std::string(config.random_crop > 0 ? "data.random_crop" : "data.hflip") +
                     ": task covariance models whole images as they are (photos take random "
                     "crops of their own: data.crop); remove it");
  PixelData data;
  if (config.dataset == "synthetic") {
    const std::int64_t n = config.synthetic_features;
    if (n < 2)
      throw UsageError("data.synthetic_features: task covariance needs at least 2 (got " +
                       std::to_string(n) + ")");
    data.train = std::make_shared<data::TensorDataset>(
        synthetic_pixels(config.synthetic_train, n, derive_seed(seed, 2001)));
    data.test = std::make_shared<data::TensorDataset>(
        synthetic_pixels(config.synthetic_test, n, derive_seed(seed, 2002)));
    data.description = "generated AR(1) pixel rows";
  } else if (config.dataset == "fashion_mnist") {
    data.train = std::make_shared<data::TensorDataset>(
        to_pixel_values(data::load_mnist_format(config.root, "train").images));
    data.test = std::make_shared<data::TensorDataset>(
        to_pixel_values(data::load_mnist_format(config.root, "test").images));
    data.description = "Fashion-MNIST from " + config.root;
  } else if (config.dataset == "photos") {
    data = photos(config, seed);
  } else {
    throw UsageError("data.dataset: '" + config.dataset +
                     "' cannot feed task covariance (expected fashion_mnist, synthetic or photos)");
  }
  // Scores of an empty test split would read as 0 bits per dimension.
  if (data.test->size() == 0)
    throw UsageError(config.root + ": the test split has no images (data.dataset " +
                     config.dataset + ")");
  if (data.train->example_shape() != data.test->example_shape())
    throw UsageError(config.root + ": the test images are " +
                     shape_str(data.test->example_shape()) + ", the training images " +
                     shape_str(data.train->example_shape()) + ": both splits must have one size");
  data.description = std::to_string(data.train->size()) + " train / " +
                     std::to_string(data.test->size()) + " test images of shape " +
                     shape_str(data.train->example_shape()) + " (" + data.description + ")";
  return data;
}

}  // namespace laplex::train
