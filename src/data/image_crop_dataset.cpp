#include "data/image_crop_dataset.h"

#include <algorithm>

#include "core/error.h"
#include "core/philox.h"
#include "core/random.h"
#include "data/image_files.h"

namespace laplex::data {

namespace {

// Uniform in [0, n) from 64 random bits; the modulo bias is below 2^-40 for
// any photo size.
std::int64_t below(std::uint32_t high, std::uint32_t low, std::int64_t n) {
  const std::uint64_t bits = (static_cast<std::uint64_t>(high) << 32) | low;
  return static_cast<std::int64_t>(bits % static_cast<std::uint64_t>(n));
}

}  // namespace

ImageCropDataset::ImageCropDataset(const std::vector<std::string>& files,
                                   const ImageCropOptions& options)
    : files_(files), options_(options) {
  if (files_.empty()) throw UsageError("image crops: expected at least one photo file");
  if (options.crop_height < 1 || options.crop_width < 1 || options.crops_per_epoch < 1)
    throw UsageError("image crops: crop size and crops per epoch must be positive");
  if (options.channels != 1 && options.channels != 3)
    throw UsageError("image crops: channels must be 1 or 3, not " +
                     std::to_string(options.channels));
  photos_ = read_images(files_, options.channels);
  for (std::size_t k = 0; k < photos_.size(); ++k)
    if (photos_[k].height < options.crop_height || photos_[k].width < options.crop_width)
      throw UsageError(files_[k] + ": photo is " + std::to_string(photos_[k].height) + "x" +
                       std::to_string(photos_[k].width) + ", smaller than the " +
                       std::to_string(options.crop_height) + "x" +
                       std::to_string(options.crop_width) + " crop");
}

ImageCropDataset::Window ImageCropDataset::window(std::int64_t index, std::int64_t epoch) const {
  if (index < 0 || index >= size())
    throw Error("ImageCropDataset: index " + std::to_string(index) + " of " +
                std::to_string(size()));
  const std::int64_t photo = index % static_cast<std::int64_t>(photos_.size());
  const Image& image = photos_[photo];
  // Stream 0 for the fixed positions, 1 + epoch for the others.
  const std::uint64_t stream = options_.fixed ? 0 : 1 + static_cast<std::uint64_t>(epoch);
  const philox::Block r =
      philox::generate(derive_seed(options_.seed, stream), static_cast<std::uint64_t>(index));
  return {photo, below(r.v[0], r.v[1], image.height - options_.crop_height + 1),
          below(r.v[2], r.v[3], image.width - options_.crop_width + 1)};
}

void ImageCropDataset::read(std::int64_t index, std::int64_t epoch, float* out,
                            std::int64_t*) const {
  const Window w = window(index, epoch);
  image_to_chw(photos_[w.photo], w.top, w.left, options_.crop_height, options_.crop_width, 1.0f,
               out);
}

PhotoSplit split_photos(std::vector<std::string> files, std::int64_t test_every) {
  if (test_every < 2 || static_cast<std::int64_t>(files.size()) < test_every)
    throw UsageError("photo split: need test_every >= 2 and at least test_every photos (got " +
                     std::to_string(files.size()) + " photos, test_every " +
                     std::to_string(test_every) + ")");
  std::sort(files.begin(), files.end());
  PhotoSplit split;
  for (std::size_t k = 0; k < files.size(); ++k)
    (static_cast<std::int64_t>(k) % test_every == test_every - 1 ? split.test : split.train)
        .push_back(files[k]);
  return split;
}

}  // namespace laplex::data
