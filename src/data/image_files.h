#pragma once
// Finding and decoding the pictures of a dataset folder.
//
//   std::vector<std::string> list_image_files(directory)
//       regular files named *.png, *.jpg or *.jpeg (any case), not hidden,
//       sorted by name so every machine sees the same order
//   std::vector<Image> read_images(paths, channels)
//       decodes in parallel (OpenMP); the error of the first failing path in
//       list order is the one thrown, so the message does not depend on timing
#include <string>
#include <vector>

#include "data/image.h"

namespace laplex::data {

std::vector<std::string> list_image_files(const std::string& directory);
std::vector<Image> read_images(const std::vector<std::string>& paths, int channels);

}  // namespace laplex::data
