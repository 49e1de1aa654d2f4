#include "data/image.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "core/error.h"

namespace laplex::data {
namespace {

namespace fs = std::filesystem;

std::string temp_path(const std::string& name) {
  return (fs::temp_directory_path() / ("laplex_image_" + name)).string();
}

Image gradient(std::int64_t h, std::int64_t w, std::int64_t c) {
  Image image{h, w, c, std::vector<std::uint8_t>(h * w * c)};
  for (std::size_t k = 0; k < image.pixels.size(); ++k)
    image.pixels[k] = static_cast<std::uint8_t>((k * 37) % 256);
  return image;
}

void expect_usage_error_naming(const std::string& path, int channels = 0) {
  try {
    read_image(path, channels);
    FAIL() << "no error for " << path;
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
    EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos) << e.what();
  }
}

TEST(ImageIo, PngRoundTripKeepsEveryByteForOneToFourChannels) {
  for (int c = 1; c <= 4; ++c) {
    const std::string path = temp_path("roundtrip" + std::to_string(c) + ".png");
    const Image image = gradient(5, 7, c);
    write_png(path, image);
    const Image back = read_image(path);
    EXPECT_EQ(back.height, 5);
    EXPECT_EQ(back.width, 7);
    EXPECT_EQ(back.channels, c);
    EXPECT_EQ(back.pixels, image.pixels);
    fs::remove(path);
  }
}

TEST(ImageIo, ChannelConversionOnRead) {
  const std::string path = temp_path("grey.png");
  write_png(path, gradient(3, 4, 1));
  const Image rgb = read_image(path, 3);
  ASSERT_EQ(rgb.channels, 3);
  ASSERT_EQ(rgb.pixels.size(), 3u * 4u * 3u);
  for (std::size_t k = 0; k < 12; ++k) {
    EXPECT_EQ(rgb.pixels[3 * k], rgb.pixels[3 * k + 1]);
    EXPECT_EQ(rgb.pixels[3 * k], rgb.pixels[3 * k + 2]);
  }
  EXPECT_EQ(read_image(path, 1).pixels, gradient(3, 4, 1).pixels);
  EXPECT_THROW(read_image(path, 2), Error);
  fs::remove(path);
}

TEST(ImageIo, WritePngReplacesAtomicallyAndLeavesNoTemporaryFiles) {
  const fs::path dir = temp_path("atomic_dir");
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string path = (dir / "out.png").string();
  write_png(path, gradient(2, 2, 3));
  write_png(path, gradient(4, 4, 3));
  EXPECT_EQ(read_image(path).height, 4);
  EXPECT_EQ(std::distance(fs::directory_iterator(dir), fs::directory_iterator()), 1);
  // A bad image is rejected before anything touches the existing file.
  EXPECT_THROW(write_png(path, Image{2, 2, 3, std::vector<std::uint8_t>(5)}), Error);
  EXPECT_EQ(read_image(path).height, 4);
  EXPECT_THROW(write_png((dir / "missing" / "x.png").string(), gradient(2, 2, 1)), UsageError);
  fs::remove_all(dir);
}

TEST(ImageIo, MissingAndCorruptFilesAreUsageErrorsNamingTheFile) {
  const std::string missing = temp_path("does_not_exist.png");
  fs::remove(missing);
  expect_usage_error_naming(missing);
  const std::string junk = temp_path("junk.png");
  std::ofstream(junk, std::ios::binary) << "this is not a picture";
  expect_usage_error_naming(junk);
  // A real PNG cut short.
  const std::string cut = temp_path("cut.png");
  write_png(cut, gradient(64, 64, 3));
  fs::resize_file(cut, fs::file_size(cut) / 2);
  expect_usage_error_naming(cut);
  fs::remove(junk);
  fs::remove(cut);
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// `bytes` (a PNG) with a chunk of `type` and no data put in front of the
// first chunk of type `before`; its CRC is right, though stb never checks.
std::string with_empty_chunk(std::string bytes, const std::string& type,
                             const std::string& before) {
  const std::size_t at = bytes.find(before) - 4;
  const auto crc = crc32(0, reinterpret_cast<const Bytef*>(type.data()), 4);
  std::string chunk = std::string(4, '\0') + type;
  for (int shift = 24; shift >= 0; shift -= 8) chunk += static_cast<char>((crc >> shift) & 0xFF);
  return bytes.insert(at, chunk);
}

// Found by mutation fuzzing under UBSan: stb_image 2.27 copies a
// zero-length first IDAT chunk (valid PNG) from a null pointer.
TEST(ImageIo, PngWithAnEmptyFirstIdatChunkDecodes) {
  const std::string path = temp_path("empty_idat.png");
  const Image image = gradient(5, 7, 3);
  write_png(path, image);
  const std::string bytes = with_empty_chunk(read_file(path), "IDAT", "IDAT");
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
  EXPECT_EQ(read_image(path).pixels, image.pixels);
  fs::remove(path);
}

// Found by mutation fuzzing: stb names an unknown critical chunk by its four
// bytes, which a damaged file may make a newline.
TEST(ImageIo, UnknownChunkNamesStayOnOneLine) {
  const std::string path = temp_path("newline_chunk.png");
  write_png(path, gradient(5, 7, 3));
  const std::string bytes = with_empty_chunk(read_file(path), "A\nBC", "IDAT");
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
  expect_usage_error_naming(path);
  fs::remove(path);
}

// Found by mutation fuzzing under UBSan: stb_image 2.27 builds a Huffman
// table of as many codes as a DHT segment counts, past its 256 entries.
TEST(ImageIo, JpegHuffmanTableOfMoreThan256CodesIsAUsageError) {
  const std::string path = temp_path("big_huffman.jpg");
  std::string bytes = "\xFF\xD8\xFF\xC4";
  bytes += std::string("\x01\x14\x00", 3);      // length 276, DC table 0
  bytes += std::string(14, '\0') + "\x02\xFF";  // 257 codes
  bytes += std::string(257, '\0') + "\xFF\xD9";
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
  expect_usage_error_naming(path);
  try {
    read_image(path);
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("Huffman table"), std::string::npos) << e.what();
  }
  fs::remove(path);
}

TEST(ImageIo, ReadsADebianJpegPhotograph) {
  const std::string photo = "/usr/share/backgrounds/mate/nature/Storm.jpg";
  if (!fs::exists(photo)) GTEST_SKIP() << photo << " is not installed (mate-backgrounds)";
  const Image image = read_image(photo, 3);
  EXPECT_GT(image.width, 1000);
  EXPECT_GT(image.height, 500);
  EXPECT_EQ(image.pixels.size(), static_cast<std::size_t>(image.height * image.width * 3));
  EXPECT_EQ(read_image(photo, 1).pixels.size(),
            static_cast<std::size_t>(image.height * image.width));
}

TEST(ImageColormap, EndsAreViridisAndLightnessRises) {
  EXPECT_EQ(colormap_rgb(0.0f), (std::array<std::uint8_t, 3>{0x44, 0x01, 0x54}));
  EXPECT_EQ(colormap_rgb(1.0f), (std::array<std::uint8_t, 3>{0xfd, 0xe7, 0x25}));
  EXPECT_EQ(colormap_rgb(-3.0f), colormap_rgb(0.0f));
  EXPECT_EQ(colormap_rgb(7.0f), colormap_rgb(1.0f));
  double previous = -1;
  for (int k = 0; k <= 100; ++k) {
    const auto rgb = colormap_rgb(k / 100.0f);
    const double luma = 0.2126 * rgb[0] + 0.7152 * rgb[1] + 0.0722 * rgb[2];
    EXPECT_GT(luma, previous) << "t = " << k / 100.0;
    previous = luma;
  }
}

TEST(ImageColormap, StaysWithinFiveLevelsOfMatplotlibsViridis) {
  std::string python;
  for (const char* candidate : {"/usr/bin/python3", "python3"})
    if (std::system((std::string(candidate) + " -c 'import matplotlib' >/dev/null 2>&1").c_str()) ==
        0) {
      python = candidate;
      break;
    }
  if (python.empty()) GTEST_SKIP() << "python3 with matplotlib is not installed";
  const std::string path = temp_path("viridis.txt");
  const std::string script = python +
                             " -c 'import matplotlib.cm as cm\nfor k in range(201): print(*("
                             "round(255 * c, 3) for c in cm.viridis(k / 200)[:3]))' > " +
                             path;
  ASSERT_EQ(std::system(script.c_str()), 0);
  std::ifstream in(path);
  double worst = 0;
  for (int k = 0; k <= 200; ++k) {
    double reference[3];
    ASSERT_TRUE(in >> reference[0] >> reference[1] >> reference[2]);
    const auto rgb = colormap_rgb(static_cast<float>(k / 200.0));
    for (int c = 0; c < 3; ++c) worst = std::max(worst, std::abs(rgb[c] - reference[c]));
  }
  EXPECT_LE(worst, 5.0);
  fs::remove(path);
}

TEST(ImageColormap, NormalisesToTheRangeOfTheValues) {
  const Image image = colormap({-2.0f, 0.0f, 2.0f, 6.0f, std::nanf(""), 6.0f}, 2, 3);
  EXPECT_EQ(image.height, 2);
  EXPECT_EQ(image.width, 3);
  EXPECT_EQ(image.channels, 3);
  auto pixel = [&](int k) {
    return std::array<std::uint8_t, 3>{image.pixels[3 * k], image.pixels[3 * k + 1],
                                       image.pixels[3 * k + 2]};
  };
  EXPECT_EQ(pixel(0), colormap_rgb(0.0f));
  EXPECT_EQ(pixel(1), colormap_rgb(0.25f));
  EXPECT_EQ(pixel(2), colormap_rgb(0.5f));
  EXPECT_EQ(pixel(3), colormap_rgb(1.0f));
  EXPECT_EQ(pixel(4), (std::array<std::uint8_t, 3>{128, 128, 128}));
  const Image constant = colormap(std::vector<float>(4, 3.0f), 2, 2);
  EXPECT_EQ(constant.pixels[0], 0x44);
  const Image fixed = colormap({0.0f, 10.0f}, 1, 2, 0.0f, 5.0f);
  EXPECT_EQ(fixed.pixels[3], 0xfd);
  EXPECT_THROW(colormap({1.0f, 2.0f}, 2, 2), Error);
}

}  // namespace
}  // namespace laplex::data
