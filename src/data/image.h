#pragma once
// 8-bit pictures in and out: PNG/JPEG (and the other formats stb_image
// knows) are decoded to interleaved HWC bytes; PNG is written atomically.
// colormap() turns a field of values into a picture through a viridis-like
// perceptual map (dark blue-violet for the minimum, yellow for the maximum),
// interpolated from 12 control points to within 5 levels of matplotlib's
// viridis; its lightness rises monotonically, so it reads in grey and for
// colour-blind readers.
//
//   Image read_image(path, channels = 0)     0: as stored (1..4), else 1, 3 or 4
//   void  write_png(path, image)              1..4 channels
//   Image colormap(values, height, width)            min..max of the values
//   Image colormap(values, height, width, low, high) a fixed range, clamped
//   std::array<std::uint8_t, 3> colormap_rgb(t)      t in [0, 1]
//   void  image_to_chw(image, top, left, height, width, scale, float* out)
// Failures are UsageErrors naming the file.
#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace laplex::data {

struct Image {
  std::int64_t height = 0, width = 0, channels = 0;
  std::vector<std::uint8_t> pixels;  // height x width x channels, row-major
};

Image read_image(const std::string& path, int channels = 0);
void write_png(const std::string& path, const Image& image);

// values holds height x width numbers, row-major. A constant field maps to
// the low end; NaNs are drawn mid-grey so they stand out from the map.
Image colormap(const std::vector<float>& values, std::int64_t height, std::int64_t width);
Image colormap(const std::vector<float>& values, std::int64_t height, std::int64_t width, float low,
               float high);
std::array<std::uint8_t, 3> colormap_rgb(float t);

// The window of `height` x `width` pixels at (top, left) as (C, H, W) floats,
// each byte times `scale`: the layout tensors use, from the HWC of files.
void image_to_chw(const Image& image, std::int64_t top, std::int64_t left, std::int64_t height,
                  std::int64_t width, float scale, float* out);

}  // namespace laplex::data
