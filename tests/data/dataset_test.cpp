#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>

#include "core/error.h"
#include "data/dequantized_dataset.h"
#include "data/image_crop_dataset.h"
#include "data/image_files.h"
#include "data/image_folder_dataset.h"
#include "data/npy.h"
#include "data/npy_dataset.h"
#include "data/tensor_dataset.h"
#include "helpers/temp_dir.h"

namespace laplex::data {
namespace {

namespace fs = std::filesystem;

fs::path temp_dir(const std::string& name) { return testing::fresh_temp_dir("dataset_" + name); }

// A picture whose every byte says where it is, so crops can be checked.
Image numbered(std::int64_t h, std::int64_t w, std::int64_t c, int salt) {
  Image image{h, w, c, std::vector<std::uint8_t>(h * w * c)};
  for (std::size_t k = 0; k < image.pixels.size(); ++k)
    image.pixels[k] = static_cast<std::uint8_t>((k * 7 + salt) % 256);
  return image;
}

std::vector<float> read_example(const Dataset& d, std::int64_t index, std::int64_t epoch,
                                std::int64_t* label = nullptr) {
  std::vector<float> out(d.example_numel());
  d.read(index, epoch, out.data(), label);
  return out;
}

template <class Fn>
void expect_usage_error_naming(const std::string& name, Fn&& fn) {
  try {
    fn();
    FAIL() << "no error, expected one naming " << name;
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find(name), std::string::npos) << e.what();
  }
}

TEST(DatasetTensor, ReadsRowsAndLabelsConvertingDtypes) {
  std::vector<double> x(4 * 2 * 3);
  for (std::size_t k = 0; k < x.size(); ++k) x[k] = 0.5 * k;
  const TensorDataset d(Tensor::from_vector(x, {4, 2, 3}),
                        Tensor::from_vector<std::int32_t>({3, 0, 1, 3}, {4}));
  EXPECT_EQ(d.size(), 4);
  EXPECT_EQ(d.example_shape(), (Shape{2, 3}));
  EXPECT_TRUE(d.has_labels());
  EXPECT_EQ(d.classes(), 4);
  std::int64_t label = -1;
  EXPECT_EQ(read_example(d, 2, 0, &label), (std::vector<float>{6, 6.5, 7, 7.5, 8, 8.5}));
  EXPECT_EQ(label, 1);
  EXPECT_THROW(read_example(d, 4, 0), Error);

  const TensorDataset unlabelled(Tensor::ones({3, 2}));
  EXPECT_FALSE(unlabelled.examples_vary_by_epoch());
  EXPECT_FALSE(unlabelled.has_labels());
  EXPECT_EQ(unlabelled.classes(), 0);
  EXPECT_THROW(TensorDataset(Tensor::ones({3, 2}), Tensor::zeros({2}, DType::i64)), Error);
  EXPECT_THROW(TensorDataset(Tensor::ones({3, 2}), Tensor::zeros({3})), Error);  // float labels
}

TEST(DatasetTensor, WrapsAnIdxSplit) {
  ImageClassificationSplit split{Tensor::full({2, 1, 2, 2}, 0.25),
                                 Tensor::from_vector<std::int64_t>({1, 0}, {2})};
  const TensorDataset d(split);
  EXPECT_EQ(d.example_shape(), (Shape{1, 2, 2}));
  std::int64_t label = -1;
  EXPECT_EQ(read_example(d, 0, 5, &label), std::vector<float>(4, 0.25f));
  EXPECT_EQ(label, 1);
}

TEST(DatasetNpy, LoadsInputsAndLabelsAndNamesTheBadFile) {
  const fs::path dir = temp_dir("npy");
  const std::string x = (dir / "inputs.npy").string(), y = (dir / "labels.npy").string();
  write_npy(x, Tensor::from_vector<float>({1, 2, 3, 4, 5, 6}, {3, 2}));
  write_npy(y, Tensor::from_vector<std::int64_t>({2, 0, 1}, {3}));
  const NpyDataset d(x, y);
  EXPECT_EQ(d.size(), 3);
  EXPECT_EQ(d.example_shape(), (Shape{2}));
  EXPECT_EQ(d.classes(), 3);
  std::int64_t label = -1;
  EXPECT_EQ(read_example(d, 1, 0, &label), (std::vector<float>{3, 4}));
  EXPECT_EQ(label, 0);
  EXPECT_FALSE(NpyDataset(x).has_labels());
  expect_usage_error_naming(y, [&] { NpyDataset(x, y, 2); });  // label 2 with 2 classes

  const std::string short_labels = (dir / "short.npy").string();
  write_npy(short_labels, Tensor::from_vector<std::int32_t>({0, 1}, {2}));
  expect_usage_error_naming(short_labels, [&] { NpyDataset(x, short_labels); });
  // A label no classifier can have (2^63 - 1: label + 1 would wrap).
  const std::string huge_labels = (dir / "huge.npy").string();
  write_npy(huge_labels, Tensor::from_vector<std::int64_t>({0, INT64_MAX, 1}, {3}));
  expect_usage_error_naming(huge_labels, [&] { NpyDataset(x, huge_labels); });
  EXPECT_THROW(TensorDataset(Tensor::zeros({1, 2}),
                             Tensor::from_vector<std::int64_t>({std::int64_t{1} << 31}, {1})),
               Error);
  const std::string float_labels = (dir / "float.npy").string();
  write_npy(float_labels, Tensor::zeros({3}));
  expect_usage_error_naming(float_labels, [&] { NpyDataset(x, float_labels); });
  const std::string scalar = (dir / "scalar.npy").string();
  write_npy(scalar, Tensor::scalar(1.0));
  expect_usage_error_naming(scalar, [&] { NpyDataset{scalar}; });
  expect_usage_error_naming((dir / "absent.npy").string(),
                            [&] { NpyDataset((dir / "absent.npy").string()); });
  fs::remove_all(dir);
}

TEST(DatasetImageFolder, SortedClassesAndFilesAsChwFloats) {
  const fs::path root = temp_dir("folder");
  for (const char* name : {"zebra", "ant", ".hidden"}) fs::create_directories(root / name);
  write_png((root / "zebra" / "b.png").string(), numbered(2, 3, 3, 1));
  write_png((root / "zebra" / "a.PNG").string(), numbered(2, 3, 3, 2));
  write_png((root / "ant" / "x.png").string(), numbered(2, 3, 3, 3));
  write_png((root / ".hidden" / "x.png").string(), numbered(5, 5, 1, 0));
  std::ofstream(root / "ant" / "notes.txt") << "not an image";
  const ImageFolderDataset d(root.string());
  EXPECT_EQ(d.class_names(), (std::vector<std::string>{"ant", "zebra"}));
  EXPECT_EQ(d.size(), 3);
  EXPECT_EQ(d.classes(), 2);
  EXPECT_EQ(d.example_shape(), (Shape{3, 2, 3}));
  EXPECT_EQ(fs::path(d.files()[1]).filename(), "a.PNG");
  std::int64_t label = -1;
  const auto example = read_example(d, 1, 0, &label);
  EXPECT_EQ(label, 1);
  const Image source = numbered(2, 3, 3, 2);
  for (int c = 0; c < 3; ++c)
    for (int y = 0; y < 2; ++y)
      for (int x = 0; x < 3; ++x)
        EXPECT_FLOAT_EQ(example[(c * 2 + y) * 3 + x],
                        source.pixels[(y * 3 + x) * 3 + c] * (1.0f / 255.0f));
  // Converted to one channel on request.
  EXPECT_EQ(ImageFolderDataset(root.string(), 1).example_shape(), (Shape{1, 2, 3}));
  fs::remove_all(root);
}

TEST(DatasetImageFolder, BadFoldersAreUsageErrorsNamingTheFile) {
  const fs::path root = temp_dir("folder_bad");
  fs::create_directories(root / "a");
  fs::create_directories(root / "b");
  write_png((root / "a" / "1.png").string(), numbered(4, 4, 1, 0));
  expect_usage_error_naming((root / "b").string(), [&] { ImageFolderDataset(root.string()); });
  const std::string odd = (root / "b" / "2.png").string();
  write_png(odd, numbered(4, 5, 1, 0));
  expect_usage_error_naming(odd, [&] { ImageFolderDataset(root.string()); });
  write_png(odd, numbered(4, 4, 3, 0));  // channel count differs
  expect_usage_error_naming(odd, [&] { ImageFolderDataset(root.string()); });
  std::ofstream(odd, std::ios::trunc) << "corrupt";
  expect_usage_error_naming(odd, [&] { ImageFolderDataset(root.string()); });
  write_png(odd, numbered(4, 4, 1, 0));
  const std::string loop = (root / "b" / "loop.png").string();
  fs::create_symlink("loop.png", loop);  // a link to itself: stat fails with ELOOP
  expect_usage_error_naming(loop, [&] { ImageFolderDataset(root.string()); });
  expect_usage_error_naming((root / "missing").string(),
                            [&] { ImageFolderDataset((root / "missing").string()); });
  fs::remove_all(root);
}

TEST(DatasetImageCrop, CropsArePureFunctionsOfSeedEpochAndIndex) {
  const fs::path dir = temp_dir("crops");
  std::vector<std::string> files;
  std::vector<Image> photos;
  for (int k = 0; k < 3; ++k) {
    photos.push_back(numbered(40 + 5 * k, 50, 3, k));
    files.push_back((dir / ("p" + std::to_string(k) + ".png")).string());
    write_png(files.back(), photos.back());
  }
  ImageCropOptions options{8, 6, 3, 30, 11, false};
  const ImageCropDataset d(files, options);
  EXPECT_EQ(d.size(), 30);
  EXPECT_EQ(d.example_shape(), (Shape{3, 8, 6}));
  EXPECT_FALSE(d.has_labels());
  std::set<std::pair<std::int64_t, std::int64_t>> positions;
  int moved = 0;
  for (std::int64_t i = 0; i < d.size(); ++i) {
    const auto w = d.window(i, 2);
    EXPECT_EQ(w.photo, i % 3);
    EXPECT_LE(w.top + 8, photos[w.photo].height);
    EXPECT_LE(w.left + 6, photos[w.photo].width);
    positions.insert({w.top, w.left});
    std::vector<float> expected(3 * 8 * 6);
    image_to_chw(photos[w.photo], w.top, w.left, 8, 6, 1.0f, expected.data());
    EXPECT_EQ(read_example(d, i, 2), expected);
    EXPECT_EQ(read_example(d, i, 2), read_example(d, i, 2));
    const auto other = d.window(i, 3);
    moved += other.top != w.top || other.left != w.left;
  }
  EXPECT_GT(positions.size(), 20u);
  EXPECT_GT(moved, 25);
  // New crops each epoch, and so after dequantisation noise too; the fixed
  // test set below and plain tensors are the same images every epoch.
  EXPECT_TRUE(d.examples_vary_by_epoch());
  EXPECT_TRUE(UniformDequantizedDataset(std::make_shared<ImageCropDataset>(files, options), 1, true)
                  .examples_vary_by_epoch());
  // Same seed, new object: same crops. Another seed: other crops.
  EXPECT_EQ(read_example(ImageCropDataset(files, options), 7, 2), read_example(d, 7, 2));
  options.seed = 12;
  EXPECT_NE(read_example(ImageCropDataset(files, options), 7, 2), read_example(d, 7, 2));
  options.fixed = true;
  const ImageCropDataset test_set(files, options);
  EXPECT_FALSE(test_set.examples_vary_by_epoch());
  for (std::int64_t i = 0; i < 30; ++i)
    EXPECT_EQ(read_example(test_set, i, 0), read_example(test_set, i, 9));
  options.crop_height = 46;  // photo 0 is 40 high
  expect_usage_error_naming(files[0], [&] { ImageCropDataset(files, options); });
  fs::remove_all(dir);
}

TEST(DatasetImageCrop, CutsDebianPhotographs) {
  const std::string folder = "/usr/share/backgrounds/mate/nature";
  if (!fs::is_directory(folder)) GTEST_SKIP() << folder << " is not installed (mate-backgrounds)";
  const PhotoSplit split = split_photos(list_image_files(folder), 4);
  ASSERT_FALSE(split.train.empty());
  const ImageCropDataset d(split.train, {32, 32, 1, 64, 5, false});
  float low = 255, high = 0;
  for (std::int64_t i = 0; i < d.size(); ++i)
    for (float v : read_example(d, i, 0)) {
      EXPECT_EQ(v, std::floor(v));
      low = std::min(low, v);
      high = std::max(high, v);
    }
  EXPECT_GE(low, 0);
  EXPECT_LE(high, 255);
  EXPECT_GT(high - low, 50);
}

TEST(DatasetPhotoSplit, EveryKthSortedPhotoIsHeldOut) {
  std::vector<std::string> files;
  for (int k = 11; k >= 0; --k) files.push_back("photo" + std::string(1, 'a' + k) + ".jpg");
  const PhotoSplit split = split_photos(files, 4);
  EXPECT_EQ(split.test, (std::vector<std::string>{"photod.jpg", "photoh.jpg", "photol.jpg"}));
  EXPECT_EQ(split.train.size(), 9u);
  std::set<std::string> all(split.train.begin(), split.train.end());
  for (const auto& f : split.test) EXPECT_TRUE(all.insert(f).second) << f;
  EXPECT_EQ(all.size(), 12u);
  EXPECT_TRUE(std::is_sorted(split.train.begin(), split.train.end()));
  EXPECT_THROW(split_photos(files, 1), UsageError);
  EXPECT_THROW(split_photos({"a.jpg", "b.jpg"}, 3), UsageError);
}

}  // namespace
}  // namespace laplex::data
