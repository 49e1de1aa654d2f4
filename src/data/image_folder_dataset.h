#pragma once
// A classification dataset in the torchvision ImageFolder layout:
// root/<class>/<image>.png|jpg|jpeg. Classes are the sub-folder names in
// sorted order (label k = k-th name); within a class, files are sorted. All
// images are decoded once, at construction, and kept as 8-bit pixels (a
// quarter of the memory of floats); read() converts one to float.
//
//   ImageFolderDataset(root, channels = 0)   0: as stored; 1 or 3: converted
//   example: (C, H, W) float32 in [0, 1]; label: class index
//   const std::vector<std::string>& class_names() const, files() const
//
// Every image must have the size and channel count of the first, or a
// UsageError names the file; so do an empty class folder and an undecodable
// file.
#include <string>
#include <vector>

#include "data/dataset.h"
#include "data/image.h"

namespace laplex::data {

class ImageFolderDataset : public Dataset {
 public:
  explicit ImageFolderDataset(const std::string& root, int channels = 0);

  std::int64_t size() const override { return static_cast<std::int64_t>(images_.size()); }
  Shape example_shape() const override { return {channels_, height_, width_}; }
  bool has_labels() const override { return true; }
  std::int64_t classes() const override { return static_cast<std::int64_t>(class_names_.size()); }
  void read(std::int64_t index, std::int64_t epoch, float* out, std::int64_t* label) const override;

  const std::vector<std::string>& class_names() const { return class_names_; }
  const std::vector<std::string>& files() const { return files_; }

 private:
  std::vector<std::string> class_names_, files_;
  std::vector<std::int64_t> labels_;
  std::vector<Image> images_;
  std::int64_t channels_ = 0, height_ = 0, width_ = 0;
};

}  // namespace laplex::data
