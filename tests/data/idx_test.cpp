// read_idx_ubyte on files made here: the data of a well-formed file, and a
// one-line UsageError naming the file for a wrong magic, a short header or
// data, trailing data, dimensions whose product passes 2^62 bytes (it
// wrapped modulo 2^64 before), and a gzip stream that inflates past what
// the header declares (now read no further than that).
#include "data/idx.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <string>
#include <vector>

#include "core/error.h"
#include "helpers/idx_files.h"
#include "helpers/temp_dir.h"

namespace laplex::data {
namespace {

using testing::idx_file_bytes;
using testing::write_bytes;

void expect_usage_error(const std::filesystem::path& path, const std::string& needle) {
  try {
    read_idx_ubyte(path.string());
    ADD_FAILURE() << "no error for " << path;
  } catch (const UsageError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find(path.string()), std::string::npos) << message;
    EXPECT_NE(message.find(needle), std::string::npos) << message;
  }
}

TEST(Idx, ReadsTheDataOfAWellFormedFile) {
  const auto dir = testing::fresh_temp_dir("idx_good");
  write_bytes(dir / "a", idx_file_bytes({2, 3}, std::string("\x00\x01\x02\x03\x04\xff", 6)));
  const Tensor t = read_idx_ubyte((dir / "a").string());
  EXPECT_EQ(t.shape(), (Shape{2, 3}));
  EXPECT_EQ(t.to_vector<std::int32_t>(), (std::vector<std::int32_t>{0, 1, 2, 3, 4, 255}));
}

TEST(Idx, MalformedFilesAreUsageErrorsNamingThem) {
  const auto dir = testing::fresh_temp_dir("idx_bad");
  write_bytes(dir / "magic", std::string("GIF89a not an idx file"));
  expect_usage_error(dir / "magic", "magic");
  write_bytes(dir / "header", idx_file_bytes({}, "").substr(0, 3));
  expect_usage_error(dir / "header", "too short");
  write_bytes(dir / "short", idx_file_bytes({2, 3}, "abc"));
  expect_usage_error(dir / "short", "truncated");
  write_bytes(dir / "long", idx_file_bytes({2, 3}, "abcdefg"));
  expect_usage_error(dir / "long", "trailing data");
  write_bytes(dir / "wrap", idx_file_bytes({1u << 22, 1u << 21, 1u << 21}, "x"));
  expect_usage_error(dir / "wrap", "2^62");
  // Found by mutation fuzzing under UBSan: a dim of 0 made the byte count 0,
  // and the strides of (0, 2^32-1, 2^32-1) overflowed int64.
  write_bytes(dir / "empty_wrap", idx_file_bytes({0, 0xFFFFFFFFu, 0xFFFFFFFFu}, ""));
  expect_usage_error(dir / "empty_wrap", "2^62");
  // gzopen opens a directory; the first read failed as "corrupt gzip data".
  std::filesystem::create_directories(dir / "folder.gz");
  expect_usage_error(dir / "folder.gz", "is a directory, expected an IDX file");
}

// Found by mutation fuzzing: gzread reads a stream cut inside its CRC and
// length trailer as a plain end of file, so the file read as complete.
TEST(Idx, AGzipStreamCutInItsTrailerIsTruncated) {
  const auto dir = testing::fresh_temp_dir("idx_gzip_cut");
  const std::string path = (dir / "cut.gz").string();
  gzFile out = gzopen(path.c_str(), "wb9");
  ASSERT_NE(out, nullptr);
  const std::string file = idx_file_bytes({4}, "abcd");
  gzwrite(out, file.data(), static_cast<unsigned>(file.size()));
  gzclose(out);
  EXPECT_EQ(read_idx_ubyte(path).numel(), 4);
  std::filesystem::resize_file(path, std::filesystem::file_size(path) - 3);
  expect_usage_error(path, "truncated gzip data");
}

TEST(Idx, AGzipStreamLongerThanItsHeaderDeclaresIsTrailingData) {
  const auto dir = testing::fresh_temp_dir("idx_gzip");
  const std::string path = (dir / "bomb.gz").string();
  gzFile out = gzopen(path.c_str(), "wb9");
  ASSERT_NE(out, nullptr);
  const std::string header = idx_file_bytes({4}, "");
  gzwrite(out, header.data(), static_cast<unsigned>(header.size()));
  const std::string zeros(1 << 20, '\0');
  for (int k = 0; k < 64; ++k) gzwrite(out, zeros.data(), static_cast<unsigned>(zeros.size()));
  gzclose(out);
  expect_usage_error(path, "trailing data");
}

}  // namespace
}  // namespace laplex::data
