#include "data/image.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <limits>

#include "core/error.h"
#include "core/printable.h"
#include "data/atomic_file.h"
#include "data/image_preflight.h"

// stb is compiled here, with internal linkage so it cannot clash with another
// copy elsewhere in a program. Its own code is not held to our warnings.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wimplicit-fallthrough"
#define STB_IMAGE_STATIC
#define STB_IMAGE_IMPLEMENTATION
#define STBI_NO_STDIO
#include <stb_image.h>
#define STB_IMAGE_WRITE_STATIC
#define STB_IMAGE_WRITE_IMPLEMENTATION
#define STBI_WRITE_NO_STDIO
#include <stb_image_write.h>
#pragma GCC diagnostic pop

namespace laplex::data {

namespace {

std::vector<std::uint8_t> read_bytes(const std::string& path) {
  std::ifstream file(path, std::ios::binary | std::ios::ate);
  if (!file) throw UsageError(path + ": cannot open image file");
  const std::streamoff size = file.tellg();
  if (size < 0) throw UsageError(path + ": cannot read image file");
  std::vector<std::uint8_t> bytes(static_cast<std::size_t>(size));
  file.seekg(0);
  file.read(reinterpret_cast<char*>(bytes.data()), size);
  if (file.gcount() != size) throw UsageError(path + ": read error");
  return bytes;
}

void append(void* context, void* data, int size) {
  auto* out = static_cast<std::vector<std::uint8_t>*>(context);
  const auto* bytes = static_cast<const std::uint8_t*>(data);
  out->insert(out->end(), bytes, bytes + size);
}

// Viridis sampled at t = 0, 0.1, ..., 0.9, 0.95, 1 (sRGB; the extra point
// follows the bend of the red channel towards yellow). Linear interpolation
// between neighbours stays within 5 levels of the full map.
struct ControlPoint {
  float t;
  std::array<std::uint8_t, 3> rgb;
};
constexpr std::array<ControlPoint, 12> kControl = {{{0.0f, {0x44, 0x01, 0x54}},
                                                    {0.1f, {0x48, 0x25, 0x76}},
                                                    {0.2f, {0x41, 0x44, 0x87}},
                                                    {0.3f, {0x35, 0x60, 0x8d}},
                                                    {0.4f, {0x2a, 0x78, 0x8e}},
                                                    {0.5f, {0x21, 0x90, 0x8c}},
                                                    {0.6f, {0x22, 0xa8, 0x84}},
                                                    {0.7f, {0x43, 0xbf, 0x71}},
                                                    {0.8f, {0x7a, 0xd1, 0x51}},
                                                    {0.9f, {0xbb, 0xdf, 0x27}},
                                                    {0.95f, {0xdf, 0xe3, 0x18}},
                                                    {1.0f, {0xfd, 0xe7, 0x25}}}};

}  // namespace

Image read_image(const std::string& path, int channels) {
  if (channels < 0 || channels == 2 || channels > 4)
    throw Error("read_image: channels must be 0 (as stored), 1, 3 or 4, not " +
                std::to_string(channels));
  auto bytes = read_bytes(path);
  if (bytes.size() > static_cast<std::size_t>(std::numeric_limits<int>::max()))
    throw UsageError(path + ": image file too large");
  if (jpeg_huffman_overflow(bytes))
    throw UsageError(path + ": not a readable JPEG image (a Huffman table of more than 256 codes)");
  drop_empty_idat(bytes);
  int width = 0, height = 0, stored = 0;
  stbi_uc* pixels = stbi_load_from_memory(bytes.data(), static_cast<int>(bytes.size()), &width,
                                          &height, &stored, channels);
  if (!pixels) {
    // stb names an unknown PNG chunk by its four bytes, which may be any.
    const char* reason = stbi_failure_reason();
    throw UsageError(path + ": not a readable PNG/JPEG image (" +
                     printable(reason ? reason : "unknown error") + ")");
  }
  Image image;
  image.height = height;
  image.width = width;
  image.channels = channels == 0 ? stored : channels;
  image.pixels.assign(pixels, pixels + image.height * image.width * image.channels);
  stbi_image_free(pixels);
  return image;
}

void write_png(const std::string& path, const Image& image) {
  if (image.channels < 1 || image.channels > 4 || image.height < 1 || image.width < 1 ||
      image.height > std::numeric_limits<int>::max() / 4 ||
      image.width > std::numeric_limits<int>::max() / 4 / image.channels)
    throw Error("write_png " + path + ": expected 1..4 channels and a positive size, got " +
                std::to_string(image.height) + "x" + std::to_string(image.width) + "x" +
                std::to_string(image.channels));
  if (image.pixels.size() != static_cast<std::size_t>(image.height * image.width * image.channels))
    throw Error("write_png " + path + ": " + std::to_string(image.pixels.size()) +
                " bytes of pixels for " + std::to_string(image.height) + "x" +
                std::to_string(image.width) + "x" + std::to_string(image.channels));
  std::vector<std::uint8_t> png;
  const int stride = static_cast<int>(image.width * image.channels);
  if (!stbi_write_png_to_func(append, &png, static_cast<int>(image.width),
                              static_cast<int>(image.height), static_cast<int>(image.channels),
                              image.pixels.data(), stride))
    throw Error("write_png " + path + ": PNG encoding failed");
  write_file_atomically(path, png);
}

std::array<std::uint8_t, 3> colormap_rgb(float t) {
  if (std::isnan(t)) return {128, 128, 128};
  const float x = std::clamp(t, 0.0f, 1.0f);
  std::size_t i = 0;
  while (i + 2 < kControl.size() && x > kControl[i + 1].t) ++i;
  const ControlPoint &a = kControl[i], &b = kControl[i + 1];
  const float f = (x - a.t) / (b.t - a.t);
  std::array<std::uint8_t, 3> rgb{};
  for (int c = 0; c < 3; ++c)
    rgb[c] = static_cast<std::uint8_t>(std::lround((1.0f - f) * a.rgb[c] + f * b.rgb[c]));
  return rgb;
}

Image colormap(const std::vector<float>& values, std::int64_t height, std::int64_t width, float low,
               float high) {
  if (height < 1 || width < 1 || static_cast<std::int64_t>(values.size()) != height * width)
    throw Error("colormap: " + std::to_string(values.size()) + " values for a " +
                std::to_string(height) + "x" + std::to_string(width) + " picture");
  Image image{height, width, 3, std::vector<std::uint8_t>(values.size() * 3)};
  const float span = high - low;
  for (std::size_t k = 0; k < values.size(); ++k) {
    const float v = values[k];
    const float t = std::isnan(v) ? v : (span > 0 && std::isfinite(span) ? (v - low) / span : 0.0f);
    const auto rgb = colormap_rgb(t);
    std::copy(rgb.begin(), rgb.end(), image.pixels.begin() + 3 * k);
  }
  return image;
}

Image colormap(const std::vector<float>& values, std::int64_t height, std::int64_t width) {
  float low = std::numeric_limits<float>::infinity(), high = -low;
  for (float v : values)
    if (std::isfinite(v)) {
      low = std::min(low, v);
      high = std::max(high, v);
    }
  if (low > high) low = high = 0.0f;  // no finite values
  return colormap(values, height, width, low, high);
}

void image_to_chw(const Image& image, std::int64_t top, std::int64_t left, std::int64_t height,
                  std::int64_t width, float scale, float* out) {
  if (top < 0 || left < 0 || height < 0 || width < 0 || top + height > image.height ||
      left + width > image.width)
    throw Error("image_to_chw: window outside the image");
  const std::int64_t channels = image.channels;
  for (std::int64_t c = 0; c < channels; ++c)
    for (std::int64_t y = 0; y < height; ++y) {
      const std::uint8_t* row =
          image.pixels.data() + ((top + y) * image.width + left) * channels + c;
      float* dst = out + (c * height + y) * width;
      for (std::int64_t x = 0; x < width; ++x)
        dst[x] = static_cast<float>(row[x * channels]) * scale;
    }
}

}  // namespace laplex::data
