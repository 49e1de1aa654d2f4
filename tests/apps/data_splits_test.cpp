// The splits a run reads, checked before any training: MNIST-format splits
// of different image sizes and empty test splits are UsageErrors naming the
// data folder (the first failed in the model after an epoch of training, the
// second reported a test loss and accuracy of 0), and laplex-eval's
// test-only read needs no training files.
#include <gtest/gtest.h>

#include <string>

#include "apps/train/classification_data.h"
#include "apps/train/pixel_data.h"
#include "core/error.h"
#include "data/image.h"
#include "data/npy.h"
#include "helpers/idx_files.h"
#include "helpers/temp_dir.h"

namespace laplex::train {
namespace {

DataConfig mnist_config(const std::filesystem::path& root) {
  DataConfig config;
  config.dataset = "fashion_mnist";
  config.root = root.string();
  return config;
}

std::string classification_error(const DataConfig& config, SplitsToRead splits) {
  try {
    load_classification_data(config, 0, splits);
  } catch (const UsageError& e) {
    return e.what();
  }
  return "no error";
}

std::string pixel_error(const DataConfig& config) {
  try {
    load_pixel_data(config, 0);
  } catch (const UsageError& e) {
    return e.what();
  }
  return "no error";
}

TEST(DataSplits, MnistSplitsOfDifferentImageSizesAreAUsageError) {
  const auto root = testing::fresh_temp_dir("data_splits_sizes");
  testing::write_mnist_split(root, "train", 20, 28, 28);
  testing::write_mnist_split(root, "t10k", 10, 14, 14);
  const std::string expected = root.string() + ": the test images are (1, 14, 14), the training images (1, 28, 28)";
  EXPECT_EQ(classification_error(mnist_config(root), SplitsToRead::train_and_test).rfind(expected, 0), 0u);
  EXPECT_EQ(pixel_error(mnist_config(root)).rfind(expected, 0), 0u) << pixel_error(mnist_config(root));
}

TEST(DataSplits, AnEmptyTestSplitIsAUsageError) {
  const auto root = testing::fresh_temp_dir("data_splits_empty_test");
  testing::write_mnist_split(root, "train", 20, 28, 28);
  testing::write_mnist_split(root, "t10k", 0, 28, 28);
  EXPECT_EQ(classification_error(mnist_config(root), SplitsToRead::train_and_test),
            root.string() + ": the test split has no examples (data.dataset fashion_mnist)");
  EXPECT_EQ(classification_error(mnist_config(root), SplitsToRead::test_only),
            root.string() + ": the test split has no examples (data.dataset fashion_mnist)");
  EXPECT_EQ(pixel_error(mnist_config(root)),
            root.string() + ": the test split has no images (data.dataset fashion_mnist)");
}

// Fewer photographs than one test split needs: the folder and the key are
// named (it was "photo split: need test_every >= 2 ...", naming neither).
TEST(DataSplits, TooFewPhotographsNameTheFolderAndTestEvery) {
  const auto root = testing::fresh_temp_dir("data_splits_photos");
  data::Image image{8, 8, 3, std::vector<std::uint8_t>(8 * 8 * 3, 100)};
  data::write_png((root / "a.png").string(), image);
  data::write_png((root / "b.png").string(), image);
  DataConfig config;
  config.dataset = "photos";
  config.root = root.string();
  config.crop_height = config.crop_width = 4;
  EXPECT_EQ(pixel_error(config), root.string() + ": 2 photographs, but data.test_every 4 holds out "
                                                 "one in every 4 for the test split: it needs at "
                                                 "least that many");
  config.test_every = 2;
  EXPECT_EQ(pixel_error(config), "no error");
}

TEST(DataSplits, TheTestSplitAloneNeedsNoTrainingFiles) {
  const auto root = testing::fresh_temp_dir("data_splits_test_only");
  testing::write_mnist_split(root, "t10k", 12, 28, 28);
  const DataConfig config = mnist_config(root);
  EXPECT_NE(classification_error(config, SplitsToRead::train_and_test).find("train-images-idx3-ubyte"),
            std::string::npos);
  const ClassificationData data = load_classification_data(config, 0, SplitsToRead::test_only);
  EXPECT_EQ(data.test.inputs.shape(), (Shape{12, 1, 28, 28}));
  EXPECT_EQ(data.test.labels.to_vector<std::int64_t>()[11], 1);
  EXPECT_EQ(data.train.inputs.shape(), (Shape{0, 1, 28, 28}));
  EXPECT_EQ(data.train.size(), 0);
  EXPECT_EQ(data.classes, 10);

  DataConfig npy = config;
  npy.dataset = "npy";
  data::write_npy((root / "test_inputs.npy").string(), Tensor::from_vector<float>({1, 2, 3, 4, 5, 6}, {2, 3}));
  data::write_npy((root / "test_labels.npy").string(), Tensor::from_vector<std::int64_t>({0, 4}, {2}));
  EXPECT_NE(classification_error(npy, SplitsToRead::train_and_test).find("train_inputs.npy"),
            std::string::npos);
  const ClassificationData rows = load_classification_data(npy, 0, SplitsToRead::test_only);
  EXPECT_EQ(rows.test.inputs.shape(), (Shape{2, 3}));
  EXPECT_EQ(rows.train.inputs.shape(), (Shape{0, 3}));
  EXPECT_EQ(rows.classes, 5);
}

}  // namespace
}  // namespace laplex::train
