#include "data/idx.h"

#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <vector>

namespace laplex::data {

namespace {

// A plain or gzip-compressed file (gzread passes plain files through), read
// as far as asked: the IDX header says how much data follows, so a file
// that inflates to far more than that is never read whole.
class GzReader {
 public:
  explicit GzReader(const std::string& path) : path_(path), file_(open(path)) {}
  GzReader(const GzReader&) = delete;
  GzReader& operator=(const GzReader&) = delete;
  ~GzReader() { gzclose(file_); }

  // Appends up to `count` bytes to `out`; returns how many were there.
  std::uint64_t read(std::uint64_t count, std::vector<unsigned char>& out) {
    std::uint64_t total = 0;
    unsigned char buffer[1 << 16];
    while (total < count) {
      const auto want = static_cast<unsigned>(std::min<std::uint64_t>(sizeof buffer, count - total));
      const int got = gzread(file_, buffer, want);
      if (got < 0) {
        int error = 0;
        const char* message = gzerror(file_, &error);
        throw UsageError(path_ + ": corrupt or truncated gzip data (" +
                         std::string(message ? message : "") + ")");
      }
      if (got == 0) break;
      out.insert(out.end(), buffer, buffer + got);
      total += static_cast<std::uint64_t>(got);
    }
    return total;
  }

  // After a read came up short: gzread reports a stream cut anywhere,
  // even inside its 8-byte CRC and length trailer, as a plain end of file
  // (Z_BUF_ERROR), so all the data can arrive without the CRC checked.
  void check_complete() {
    int error = Z_OK;
    gzerror(file_, &error);
    if (error == Z_BUF_ERROR)
      throw UsageError(path_ + ": truncated gzip data (the stream ends early)");
  }

 private:
  // gzopen opens a directory and fails only on the first read, as "corrupt
  // or truncated gzip data".
  static gzFile open(const std::string& path) {
    std::error_code error;
    if (std::filesystem::is_directory(path, error))
      throw UsageError(path + ": is a directory, expected an IDX file (plain or .gz)");
    gzFile file = gzopen(path.c_str(), "rb");
    if (!file) throw UsageError(path + ": cannot open");
    return file;
  }

  std::string path_;
  gzFile file_;
};

std::uint32_t big_endian(const unsigned char* p) {
  return (std::uint32_t(p[0]) << 24) | (std::uint32_t(p[1]) << 16) | (std::uint32_t(p[2]) << 8) |
         std::uint32_t(p[3]);
}

}  // namespace

Tensor read_idx_ubyte(const std::string& path) {
  GzReader reader(path);
  std::vector<unsigned char> bytes;
  if (reader.read(4, bytes) < 4) throw UsageError(path + ": too short to be an IDX file");
  const std::uint32_t magic = big_endian(bytes.data());
  const std::uint32_t rank = magic & 0xFF;
  if ((magic & 0xFFFFFF00u) != 0x00000800u || rank < 1 || rank > 4) {
    char found[16];
    std::snprintf(found, sizeof found, "0x%08x", magic);
    throw UsageError(path + ": not an unsigned-byte IDX file (magic " + found +
                     ", expected 0x00000801..0x00000804)");
  }
  if (reader.read(4 * rank, bytes) < 4 * rank) throw UsageError(path + ": truncated IDX header");
  // The bound skips zero dims: (0, 2^32-1, 2^32-1) holds nothing, but the
  // strides of a tensor of that shape would still overflow int64.
  Shape shape;
  std::uint64_t count = 1, bound = 1;
  for (std::uint32_t d = 0; d < rank; ++d) {
    shape.push_back(big_endian(bytes.data() + 4 + 4 * d));
    const auto dim = static_cast<std::uint64_t>(shape.back());
    count *= dim;
    if (__builtin_mul_overflow(bound, std::max<std::uint64_t>(dim, 1), &bound) ||
        bound > (std::uint64_t{1} << 62))
      throw UsageError(path + ": IDX dimensions describe more than 2^62 bytes");
  }
  const std::uint64_t header = 4 + 4 * rank;
  const std::uint64_t found = reader.read(count, bytes);
  if (found < count)
    throw UsageError(path + ": truncated: expected " + std::to_string(count) +
                     " bytes of data for shape " + shape_str(shape) + ", found " +
                     std::to_string(found));
  std::vector<unsigned char> extra;
  if (reader.read(1, extra) > 0)
    throw UsageError(path + ": trailing data: more than the " + std::to_string(count) +
                     " bytes of data for shape " + shape_str(shape));
  reader.check_complete();
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
  for (const std::int32_t label : labels.to_vector<std::int32_t>())
    if (label > 9)
      throw UsageError(labels_path + ": label " + std::to_string(label) +
                       " (the MNIST format has the 10 classes 0..9)");
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
