#include "apps/eval/picture.h"

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "core/error.h"

namespace laplex::eval {

data::Image field_picture(const std::vector<float>& values, std::int64_t channels,
                          std::int64_t height, std::int64_t width, bool symmetric) {
  const std::int64_t plane = height * width;
  check(static_cast<std::int64_t>(values.size()) == channels * plane,
        "field_picture: values do not match the field's shape");
  // One range for every panel: panels of one field must be comparable.
  float low = INFINITY, high = -INFINITY;
  for (float v : values)
    if (std::isfinite(v)) low = std::min(low, v), high = std::max(high, v);
  if (!(low <= high)) low = high = 0.0f;
  if (symmetric) {
    high = std::max(std::abs(low), std::abs(high));
    if (high == 0.0f) high = 1.0f;
    low = -high;
  }
  std::vector<data::Image> tiles;
  for (std::int64_t c = 0; c < channels; ++c) {
    std::vector<float> field(values.begin() + c * plane, values.begin() + (c + 1) * plane);
    tiles.push_back(data::colormap(field, height, width, low, high));
  }
  if (tiles.size() == 1) return tiles[0];
  // RGB side by side; many feature maps (a CNN's) in a near-square grid.
  const auto columns = channels <= 4 ? channels
                                     : static_cast<std::int64_t>(std::ceil(std::sqrt(channels)));
  return grid(tiles, columns);
}

data::Image unit_image_picture(const std::vector<float>& values, std::int64_t channels,
                               std::int64_t height, std::int64_t width) {
  check(channels == 1 || channels == 3, "unit_image_picture: 1 or 3 channels");
  data::Image image{height, width, channels, std::vector<std::uint8_t>(values.size())};
  const std::int64_t plane = height * width;
  for (std::int64_t c = 0; c < channels; ++c)
    for (std::int64_t k = 0; k < plane; ++k) {
      const float v = std::clamp(values[c * plane + k], 0.0f, 1.0f);
      image.pixels[k * channels + c] = static_cast<std::uint8_t>(std::lround(v * 255.0f));
    }
  return image;
}

data::Image grid(const std::vector<data::Image>& tiles, std::int64_t columns, std::int64_t gap) {
  check(!tiles.empty() && columns > 0, "grid: no tiles");
  const std::int64_t h = tiles[0].height, w = tiles[0].width, ch = tiles[0].channels;
  for (const auto& t : tiles)
    check(t.height == h && t.width == w && t.channels == ch, "grid: tiles of different sizes");
  const std::int64_t count = static_cast<std::int64_t>(tiles.size());
  const std::int64_t cols = std::min(columns, count), rows = (count + cols - 1) / cols;
  data::Image out{rows * h + (rows - 1) * gap, cols * w + (cols - 1) * gap, ch, {}};
  out.pixels.assign(out.height * out.width * ch, 255);
  for (std::int64_t k = 0; k < count; ++k) {
    const std::int64_t top = (k / cols) * (h + gap), left = (k % cols) * (w + gap);
    for (std::int64_t y = 0; y < h; ++y)
      std::copy_n(tiles[k].pixels.begin() + y * w * ch, w * ch,
                  out.pixels.begin() + ((top + y) * out.width + left) * ch);
  }
  return out;
}

data::Image enlarge(const data::Image& image, std::int64_t factor) {
  if (factor <= 1) return image;
  const std::int64_t ch = image.channels;
  data::Image out{image.height * factor, image.width * factor, ch, {}};
  out.pixels.resize(out.height * out.width * ch);
  for (std::int64_t y = 0; y < out.height; ++y)
    for (std::int64_t x = 0; x < out.width; ++x)
      std::copy_n(image.pixels.begin() + ((y / factor) * image.width + x / factor) * ch, ch,
                  out.pixels.begin() + (y * out.width + x) * ch);
  return out;
}

std::int64_t enlargement_for(std::int64_t height, std::int64_t width, std::int64_t target) {
  return std::max<std::int64_t>(1, target / std::max<std::int64_t>(1, std::max(height, width)));
}

void check_picture_folder(const std::string& out_dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::path existing = out_dir;
  while (!existing.empty() && !fs::exists(existing, ec)) existing = existing.parent_path();
  if (!existing.empty() && !fs::is_directory(existing, ec))
    throw UsageError(out_dir + ": cannot make the --explain folder there (" + existing.string() +
                     " is a file)");
}

void make_picture_folder(const std::string& out_dir) {
  std::error_code ec;
  std::filesystem::create_directories(out_dir, ec);
  if (ec || !std::filesystem::is_directory(out_dir))
    throw UsageError(out_dir + ": cannot make the --explain folder there" +
                     (ec ? ": " + ec.message() : std::string(" (a file is in the way)")));
}

}  // namespace laplex::eval
