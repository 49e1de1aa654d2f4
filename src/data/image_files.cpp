#include "data/image_files.h"

#include <algorithm>
#include <cctype>
#include <exception>
#include <filesystem>

#include "core/error.h"

namespace laplex::data {

namespace {

bool is_image_name(const std::string& name) {
  if (name.empty() || name[0] == '.') return false;
  const std::size_t dot = name.rfind('.');
  if (dot == std::string::npos) return false;
  std::string extension = name.substr(dot + 1);
  for (char& c : extension) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return extension == "png" || extension == "jpg" || extension == "jpeg";
}

}  // namespace

std::vector<std::string> list_image_files(const std::string& directory) {
  namespace fs = std::filesystem;
  std::error_code error;
  if (!fs::is_directory(directory, error))
    throw UsageError(directory + ": expected a directory of images");
  std::vector<std::string> files;
  for (const auto& entry : fs::directory_iterator(directory, error)) {
    if (!is_image_name(entry.path().filename().string())) continue;
    std::error_code entry_error;  // a link in a loop or to nowhere
    if (!entry.is_regular_file(entry_error))
      throw UsageError(entry.path().string() + ": not a readable image file" +
                       (entry_error ? " (" + entry_error.message() + ")" : std::string()));
    files.push_back(entry.path().string());
  }
  if (error) throw UsageError(directory + ": cannot list the directory: " + error.message());
  std::sort(files.begin(), files.end());
  return files;
}

std::vector<Image> read_images(const std::vector<std::string>& paths, int channels) {
  const std::int64_t count = static_cast<std::int64_t>(paths.size());
  std::vector<Image> images(paths.size());
  std::vector<std::exception_ptr> errors(paths.size());
#pragma omp parallel for schedule(dynamic)
  for (std::int64_t k = 0; k < count; ++k) {
    try {
      images[k] = read_image(paths[k], channels);
    } catch (...) {
      errors[k] = std::current_exception();
    }
  }
  for (const auto& error : errors)
    if (error) std::rethrow_exception(error);
  return images;
}

}  // namespace laplex::data
