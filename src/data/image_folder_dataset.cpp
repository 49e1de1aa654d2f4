#include "data/image_folder_dataset.h"

#include <algorithm>
#include <filesystem>

#include "core/error.h"
#include "data/image_files.h"

namespace laplex::data {

ImageFolderDataset::ImageFolderDataset(const std::string& root, int channels) {
  namespace fs = std::filesystem;
  std::error_code error;
  if (!fs::is_directory(root, error))
    throw UsageError(root + ": expected a directory with one sub-folder of images per class");
  for (const auto& entry : fs::directory_iterator(root, error)) {
    const std::string name = entry.path().filename().string();
    if (entry.is_directory() && !name.empty() && name[0] != '.') class_names_.push_back(name);
  }
  std::sort(class_names_.begin(), class_names_.end());
  if (class_names_.empty())
    throw UsageError(root + ": expected one sub-folder of images per class, found none");
  for (std::size_t k = 0; k < class_names_.size(); ++k) {
    const std::string folder = (fs::path(root) / class_names_[k]).string();
    const auto files = list_image_files(folder);
    if (files.empty()) throw UsageError(folder + ": class folder without .png/.jpg/.jpeg images");
    files_.insert(files_.end(), files.begin(), files.end());
    labels_.insert(labels_.end(), files.size(), static_cast<std::int64_t>(k));
  }
  images_ = read_images(files_, channels);
  const Image& first = images_.front();
  height_ = first.height;
  width_ = first.width;
  channels_ = first.channels;
  for (std::size_t i = 0; i < images_.size(); ++i) {
    const Image& image = images_[i];
    if (image.height != height_ || image.width != width_ || image.channels != channels_)
      throw UsageError(files_[i] + ": image is " + std::to_string(image.height) + "x" +
                       std::to_string(image.width) + "x" + std::to_string(image.channels) +
                       " (HxWxC); expected " + std::to_string(height_) + "x" +
                       std::to_string(width_) + "x" + std::to_string(channels_) + " like " +
                       files_.front() +
                       (image.height == height_ && image.width == width_
                            ? " (ask for 1 or 3 channels to convert them all)"
                            : ""));
  }
}

void ImageFolderDataset::read(std::int64_t index, std::int64_t, float* out,
                              std::int64_t* label) const {
  if (index < 0 || index >= size())
    throw Error("ImageFolderDataset: index " + std::to_string(index) + " of " +
                std::to_string(size()));
  image_to_chw(images_[index], 0, 0, height_, width_, 1.0f / 255.0f, out);
  if (label) *label = labels_[index];
}

}  // namespace laplex::data
