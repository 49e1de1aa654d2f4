#pragma once
// Random crops of photographs, for covariance models of natural images. The
// photos are decoded once and kept as bytes; example i of epoch e is a
// crop_height x crop_width window of photo (i mod photos) at a position drawn
// by Philox from (seed, e, i), so an epoch is a pure function of the seed and
// any example can be recomputed alone. With `fixed`, positions ignore the
// epoch: a test set that is the same every time it is evaluated.
//
//   ImageCropDataset(files, ImageCropOptions{crop_height, crop_width, channels,
//                                            crops_per_epoch, seed, fixed})
//   example: (C, crop_height, crop_width) float32, the raw 8-bit values 0..255
//            (the caller dequantises, e.g. adds uniform noise and scales);
//            no labels
//   PhotoSplit split_photos(files, test_every)
//
// A photo smaller than the crop is a UsageError naming the file.
#include <cstdint>
#include <string>
#include <vector>

#include "data/dataset.h"
#include "data/image.h"

namespace laplex::data {

struct ImageCropOptions {
  std::int64_t crop_height = 32, crop_width = 32;
  int channels = 3;  // 1 (grey) or 3 (RGB); photos are converted
  std::int64_t crops_per_epoch = 1024;
  std::uint64_t seed = 0;
  bool fixed = false;
};

class ImageCropDataset : public Dataset {
 public:
  ImageCropDataset(const std::vector<std::string>& files, const ImageCropOptions& options);

  std::int64_t size() const override { return options_.crops_per_epoch; }
  Shape example_shape() const override {
    return {options_.channels, options_.crop_height, options_.crop_width};
  }
  bool has_labels() const override { return false; }
  bool examples_vary_by_epoch() const override { return !options_.fixed; }
  void read(std::int64_t index, std::int64_t epoch, float* out, std::int64_t* label) const override;

  // Where example `index` of `epoch` is cut from: photo, top row, left column.
  struct Window {
    std::int64_t photo, top, left;
  };
  Window window(std::int64_t index, std::int64_t epoch) const;
  const std::vector<std::string>& files() const { return files_; }

 private:
  std::vector<std::string> files_;
  ImageCropOptions options_;
  std::vector<Image> photos_;
};

// Splits photos into disjoint train and test lists: the files are sorted,
// and photo k (0-based) goes to test when k % test_every == test_every - 1,
// the others to train (12 photos, test_every 4: photos 3, 7 and 11 test).
// Whole photos are held out, not crops, so a test crop never overlaps a
// training crop. test_every >= 2 and at least test_every files, else a
// UsageError.
struct PhotoSplit {
  std::vector<std::string> train, test;
};
PhotoSplit split_photos(std::vector<std::string> files, std::int64_t test_every);

}  // namespace laplex::data
