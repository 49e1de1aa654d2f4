#include "helpers/idx_files.h"

#include <fstream>

namespace laplex::testing {

namespace {

std::string big_endian(std::uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
          static_cast<char>(v)};
}

}  // namespace

std::string idx_file_bytes(const std::vector<std::uint32_t>& dims, const std::string& data) {
  std::string out = big_endian(0x00000800u | static_cast<std::uint32_t>(dims.size()));
  for (auto d : dims) out += big_endian(d);
  return out + data;
}

void write_bytes(const std::filesystem::path& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

void write_mnist_split(const std::filesystem::path& dir, const std::string& prefix,
                       std::uint32_t count, std::uint32_t height, std::uint32_t width) {
  std::string pixels(std::size_t{count} * height * width, '\0');
  for (std::size_t i = 0; i < pixels.size(); ++i) pixels[i] = static_cast<char>(i % 251);
  std::string labels(count, '\0');
  for (std::uint32_t i = 0; i < count; ++i) labels[i] = static_cast<char>(i % 10);
  write_bytes(dir / (prefix + "-images-idx3-ubyte"), idx_file_bytes({count, height, width}, pixels));
  write_bytes(dir / (prefix + "-labels-idx1-ubyte"), idx_file_bytes({count}, labels));
}

}  // namespace laplex::testing
