#include "core/safetensors.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>

namespace laplex {
namespace {

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("laplex_" + name)).string();
}

TEST(Safetensors, RoundTripEveryDtypeAndMetadata) {
  const std::string path = temp_path("roundtrip.safetensors");
  std::map<std::string, Tensor> tensors = {
      {"model.0.weight", Tensor::from_vector<float>({1, 2, 3, 4, 5, 6}, {2, 3})},
      {"model.0.t", Tensor::from_vector<double>({0.5}, {1})},
      {"counts", Tensor::from_vector<std::int64_t>({7, 8}, {2})},
      {"labels", Tensor::from_vector<std::int32_t>({-1}, {1})},
      {"scalar", Tensor::scalar(2.5)}};
  write_safetensors(path, tensors, {{"step", "12"}, {"config", "a: 1\n"}});
  const auto file = read_safetensors(path);
  EXPECT_EQ(file.metadata.at("step"), "12");
  EXPECT_EQ(file.metadata.at("config"), "a: 1\n");
  ASSERT_EQ(file.tensors.size(), tensors.size());
  EXPECT_EQ(file.tensors.at("model.0.weight").shape(), (Shape{2, 3}));
  EXPECT_EQ(file.tensors.at("model.0.weight").to_vector<float>(),
            tensors["model.0.weight"].to_vector<float>());
  EXPECT_EQ(file.tensors.at("counts").to_vector<std::int64_t>(), (std::vector<std::int64_t>{7, 8}));
  EXPECT_EQ(file.tensors.at("scalar").dim(), 0);
  std::filesystem::remove(path);
}

TEST(Safetensors, TruncatedAndForeignFilesAreUsageErrors) {
  const std::string path = temp_path("truncated.safetensors");
  write_safetensors(path, {{"w", Tensor::ones({100})}});
  std::filesystem::resize_file(path, std::filesystem::file_size(path) - 10);
  try {
    read_safetensors(path);
    FAIL();
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("truncated"), std::string::npos) << e.what();
  }
  std::ofstream(path, std::ios::trunc) << "hello, this is not a checkpoint";
  EXPECT_THROW(read_safetensors(path), UsageError);
  std::filesystem::remove(path);
  EXPECT_THROW(read_safetensors(path), UsageError);  // missing
}

// A header is written as an 8-byte little-endian length and the JSON text.
void write_header_only(const std::string& path, const std::string& json, std::size_t data_bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  const std::uint64_t length = json.size();
  for (int i = 0; i < 8; ++i) out.put(static_cast<char>(length >> (8 * i)));
  out << json << std::string(data_bytes, '\0');
}

TEST(Safetensors, DirectoriesAndShapesPastTheInt64RangeAreUsageErrors) {
  const std::string dir = temp_path("directory.safetensors");
  std::filesystem::create_directories(dir);
  try {
    read_safetensors(dir);
    FAIL();
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("is a directory"), std::string::npos) << e.what();
  }
  // 2^63 rows: read as a negative int64 dimension, the error was not a
  // UsageError; 2^62 x 4 rows overflowed the byte count.
  const std::string path = temp_path("huge_shape.safetensors");
  for (const char* shape : {"[9223372036854775808, 2]", "[4611686018427387904, 4]"}) {
    write_header_only(path,
                      std::string(R"({"t": {"dtype": "F32", "shape": )") + shape +
                          R"(, "data_offsets": [0, 8]}})",
                      8);
    try {
      read_safetensors(path);
      ADD_FAILURE() << shape << " was accepted";
    } catch (const UsageError& e) {
      EXPECT_NE(std::string(e.what()).find("'t'"), std::string::npos) << e.what();
    }
  }
  std::filesystem::remove(path);
}

// Found by mutation fuzzing under UBSan: a dim of 0 made the byte count 0,
// so (0, 2^62, 4) passed the size check and its strides overflowed int64.
TEST(Safetensors, ZeroSizedShapesWithDimsPastTheInt64RangeAreUsageErrors) {
  const std::string path = temp_path("zero_huge_shape.safetensors");
  write_header_only(
      path,
      R"({"t": {"dtype": "F32", "shape": [0, 4611686018427387904, 4], "data_offsets": [0, 0]}})",
      0);
  try {
    read_safetensors(path);
    ADD_FAILURE() << "accepted";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("2^62 bytes"), std::string::npos) << e.what();
  }
  std::filesystem::remove(path);
}

// Found by mutation fuzzing: a header length 8 too large, in a file 8 bytes
// longer, read as valid (nlohmann stops at the NUL that follows the JSON)
// with every tensor taken from 8 bytes further on.
TEST(Safetensors, AHeaderRunningIntoTheDataIsAUsageError) {
  const std::string path = temp_path("header_into_data.safetensors");
  write_safetensors(path, {{"w", Tensor::zeros({4})}});
  std::string bytes;
  {
    std::ifstream in(path, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  bytes[0] = static_cast<char>(bytes[0] + 8);
  bytes += std::string(8, '\0');
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
  try {
    read_safetensors(path);
    ADD_FAILURE() << "accepted";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("NUL byte"), std::string::npos) << e.what();
  }
  std::filesystem::remove(path);
}

// Found by mutation fuzzing: nlohmann's parse error quoted the whole broken
// token (a config string of any length and any bytes), and a tensor name
// may hold a newline.
TEST(Safetensors, DamagedHeadersGiveOneShortPrintableLine) {
  const std::string path = temp_path("damaged_header.safetensors");
  const std::string bad_metadata = R"({"__metadata__": {"config": ")" + std::string(20000, 'a') +
                                   std::string("\x01\xff") + R"("}})";
  const std::string newline_name =
      R"({"a
b": {"dtype": "F16", "shape": [1], "data_offsets": [0, 2]}})";
  for (const std::string& json : {bad_metadata, newline_name}) {
    write_header_only(path, json, 0);
    try {
      read_safetensors(path);
      ADD_FAILURE() << "accepted";
    } catch (const UsageError& e) {
      const std::string message = e.what();
      EXPECT_NE(message.find(path), std::string::npos) << message;
      EXPECT_LT(message.size(), 400u) << message;
      EXPECT_TRUE(std::all_of(message.begin(), message.end(), [](char c) { return c >= 0x20; }))
          << message;
    }
  }
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace laplex
