// load_classification_data: the datasets a classification config can name.
#include "apps/train/classification_data.h"

#include <algorithm>
#include <filesystem>

#include "core/finite_check.h"
#include "data/idx.h"
#include "data/image_folder_dataset.h"
#include "data/npy_dataset.h"

namespace laplex::train {

void normalize_inputs(Tensor& inputs, const DataConfig& config) {
  if (config.mean.empty()) return;
  const std::int64_t n = inputs.size(0), c = inputs.dim() > 1 ? inputs.size(1) : 1;
  if (static_cast<std::int64_t>(config.mean.size()) != c)
    throw UsageError("data.mean: " + std::to_string(config.mean.size()) + " values for " +
                     std::to_string(c) + " channels");
  const std::int64_t per_channel = inputs.numel() / std::max<std::int64_t>(n * c, 1);
  float* p = inputs.data<float>();
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t ch = 0; ch < c; ++ch) {
      float* q = p + (i * c + ch) * per_channel;
      const float m = static_cast<float>(config.mean[ch]), s = static_cast<float>(config.std[ch]);
      for (std::int64_t k = 0; k < per_channel; ++k) q[k] = (q[k] - m) / s;
    }
}

namespace {

// Every example of a dataset in memory, as a split.
Split read_all(const data::Dataset& dataset) {
  Shape shape = dataset.example_shape();
  shape.insert(shape.begin(), dataset.size());
  Split split{Tensor::empty(shape), Tensor::empty({dataset.size()}, DType::i64)};
  float* x = split.inputs.data<float>();
  std::int64_t* y = split.labels.data<std::int64_t>();
  const std::int64_t row = dataset.example_numel();
#pragma omp parallel for
  for (std::int64_t i = 0; i < dataset.size(); ++i) dataset.read(i, 0, x + i * row, y + i);
  return split;
}

std::string in_root(const DataConfig& config, const std::string& name) {
  return (std::filesystem::path(config.root) / name).string();
}

Shape example_shape(const Split& split) {
  Shape shape = split.inputs.shape();
  shape.erase(shape.begin());
  return shape;
}

// A split with no examples, shaped like `like`'s: the training split when
// only the test split is read.
Split empty_like(const Split& like) {
  Shape shape = example_shape(like);
  shape.insert(shape.begin(), 0);
  return {Tensor::empty(shape), Tensor::empty({0}, DType::i64)};
}

// root/<split>_inputs.npy (N, ...) and root/<split>_labels.npy (N).
Split load_npy_split(const DataConfig& config, const std::string& split) {
  const std::string inputs = in_root(config, split + "_inputs.npy");
  Split out = read_all(data::NpyDataset(inputs, in_root(config, split + "_labels.npy")));
  if (const std::int64_t k = first_non_finite(out.inputs); k >= 0) {
    const std::int64_t row_size = std::max<std::int64_t>(1, numel(example_shape(out)));
    throw UsageError(inputs + ": element " + std::to_string(k) + " (row " +
                     std::to_string(k / row_size) + ") is NaN or infinite");
  }
  return out;
}

ClassificationData load_npy(const DataConfig& config, SplitsToRead splits) {
  ClassificationData data;
  if (splits == SplitsToRead::train_and_test) data.train = load_npy_split(config, "train");
  data.test = load_npy_split(config, "test");
  if (splits == SplitsToRead::test_only) data.train = empty_like(data.test);
  if (example_shape(data.train) != example_shape(data.test))
    throw UsageError(in_root(config, "test_inputs.npy") + ": rows of shape " +
                     shape_str(example_shape(data.test)) + ", the training rows are " +
                     shape_str(example_shape(data.train)));
  for (const Split* split : {&data.train, &data.test})
    for (auto label : split->labels.to_vector<std::int64_t>()) {
      if (label < 0) throw UsageError(config.root + ": labels must be >= 0, found " + std::to_string(label));
      data.classes = std::max(data.classes, label + 1);
    }
  return data;
}

ClassificationData load_mnist(const DataConfig& config, SplitsToRead splits) {
  ClassificationData data;
  if (splits == SplitsToRead::train_and_test) {
    auto train = data::load_mnist_format(config.root, "train");
    data.train = {train.images, train.labels};
  }
  auto test = data::load_mnist_format(config.root, "test");
  data.test = {test.images, test.labels};
  if (splits == SplitsToRead::test_only) data.train = empty_like(data.test);
  if (example_shape(data.train) != example_shape(data.test))
    throw UsageError(config.root + ": the test images are " + shape_str(example_shape(data.test)) +
                     ", the training images " + shape_str(example_shape(data.train)) +
                     " (channels, height, width): both splits must have one size");
  data.classes = 10;
  return data;
}

// root/train/<class>/*.png|jpg and root/test/<class>/*.png|jpg, the same classes in both.
ClassificationData load_image_folder(const DataConfig& config) {
  const data::ImageFolderDataset train(in_root(config, "train"), static_cast<int>(config.channels));
  const data::ImageFolderDataset test(in_root(config, "test"), static_cast<int>(config.channels));
  if (train.class_names() != test.class_names())
    throw UsageError(config.root + ": train/ and test/ must hold the same class folders");
  if (train.example_shape() != test.example_shape())
    throw UsageError(config.root + ": train/ and test/ images differ in size (" +
                     shape_str(train.example_shape()) + " vs " + shape_str(test.example_shape()) + ")");
  return {read_all(train), read_all(test), train.classes()};
}

}  // namespace

ClassificationData load_classification_data(const DataConfig& config, std::uint64_t seed,
                                            SplitsToRead splits) {
  ClassificationData data;
  if (config.dataset == "synthetic") {
    data = make_synthetic(config.synthetic_train, config.synthetic_test, config.synthetic_features,
                          config.synthetic_classes, seed);
  } else if (config.dataset == "npy") {
    data = load_npy(config, splits);
  } else if (config.dataset == "image_folder") {
    data = load_image_folder(config);
  } else if (config.dataset == "photos") {
    throw UsageError("data.dataset: photos are for task covariance (random crops, no labels)");
  } else {
    data = load_mnist(config, splits);
  }
  // Scores of an empty test split would read as a loss and accuracy of 0.
  if (data.test.size() == 0)
    throw UsageError(config.root + ": the test split has no examples (data.dataset " +
                     config.dataset + ")");
  normalize_inputs(data.train.inputs, config);
  normalize_inputs(data.test.inputs, config);
  return data;
}

}  // namespace laplex::train
