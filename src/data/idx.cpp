#include "data/idx.h"

#include <zlib.h>

#include <cstdint>
#include <filesystem>
#include <vector>

namespace laplex::data {

namespace {

// Reads all of a file, decompressing gzip transparently (gzread passes
// plain files through).
std::vector<unsigned char> read_all(const std::string& path) {
  gzFile file = gzopen(path.c_str(), "rb");
  if (!file) throw UsageError(path + ": cannot open");
  std::vector<unsigned char> bytes;
  unsigned char buffer[1 << 16];
  int got = 0;
  while ((got = gzread(file, buffer, sizeof buffer)) > 0) bytes.insert(bytes.end(), buffer, buffer + got);
  int error = 0;
  const char* message = gzerror(file, &error);
  const std::string what = message ? message : "";
  gzclose(file);
  if (got < 0 || (error != Z_OK && error != Z_STREAM_END))
    throw UsageError(path + ": corrupt or truncated gzip data (" + what + ")");
  return bytes;
}

std::uint32_t big_endian(const unsigned char* p) {
  return (std::uint32_t(p[0]) << 24) | (std::uint32_t(p[1]) << 16) | (std::uint32_t(p[2]) << 8) |
         std::uint32_t(p[3]);
}

}  // namespace

Tensor read_idx_ubyte(const std::string& path) {
  const auto bytes = read_all(path);
  if (bytes.size() < 4) throw UsageError(path + ": too short to be an IDX file");
  const std::uint32_t magic = big_endian(bytes.data());
  const std::uint32_t rank = magic & 0xFF;
  if ((magic & 0xFFFFFF00u) != 0x00000800u || rank < 1 || rank > 4) {
    char found[16];
    std::snprintf(found, sizeof found, "0x%08x", magic);
    throw UsageError(path + ": not an unsigned-byte IDX file (magic " + found +
                     ", expected 0x00000801..0x00000804)");
  }
  if (bytes.size() < 4 + 4 * rank) throw UsageError(path + ": truncated IDX header");
  Shape shape;
  std::uint64_t count = 1;
  for (std::uint32_t d = 0; d < rank; ++d) {
    shape.push_back(big_endian(bytes.data() + 4 + 4 * d));
    count *= static_cast<std::uint64_t>(shape.back());
  }
  const std::uint64_t header = 4 + 4 * rank;
  if (bytes.size() - header != count)
    throw UsageError(path + ": " + (bytes.size() - header < count ? "truncated" : "trailing data") +
                     ": expected " + std::to_string(count) + " bytes of data for shape " +
                     shape_str(shape) + ", found " + std::to_string(bytes.size() - header));
  Tensor out = Tensor::empty(shape, DType::i32);
  std::int32_t* p = out.data<std::int32_t>();
  for (std::uint64_t i = 0; i < count; ++i) p[i] = bytes[header + i];
  return out;
}

ImageClassificationSplit load_mnist_format(const std::string& root, const std::string& split) {
  const std::string prefix = split == "train" ? "train" : "t10k";
  auto find = [&](const std::string& stem) {
    for (const std::string& name : {stem + ".gz", stem}) {
      const auto path = std::filesystem::path(root) / name;
      if (std::filesystem::exists(path)) return path.string();
    }
    throw UsageError(root + ": no " + stem + "(.gz) (expected the MNIST-format files; for "
                     "Fashion-MNIST install the Debian package dataset-fashion-mnist)");
  };
  const std::string images_path = find(prefix + "-images-idx3-ubyte");
  const std::string labels_path = find(prefix + "-labels-idx1-ubyte");
  const Tensor images = read_idx_ubyte(images_path);
  const Tensor labels = read_idx_ubyte(labels_path);
  if (images.dim() != 3) throw UsageError(images_path + ": expected 3 dims (N, H, W)");
  if (labels.dim() != 1) throw UsageError(labels_path + ": expected 1 dim (N)");
  if (images.size(0) != labels.size(0))
    throw UsageError(images_path + ": " + std::to_string(images.size(0)) + " images but " +
                     labels_path + " has " + std::to_string(labels.size(0)) + " labels");
  ImageClassificationSplit out;
  const std::int64_t n = images.size(0), h = images.size(1), w = images.size(2);
  out.images = Tensor::empty({n, 1, h, w}, DType::f32);
  const std::int32_t* src = images.data<std::int32_t>();
  float* dst = out.images.data<float>();
  const std::int64_t count = images.numel();
  for (std::int64_t i = 0; i < count; ++i) dst[i] = static_cast<float>(src[i]) / 255.0f;
  out.labels = labels.to(DType::i64);
  return out;
}

}  // namespace laplex::data
