#pragma once
// Building blocks of the --explain pictures: fields of numbers shown as
// colour-mapped tiles, tiles laid out in a grid, and small images enlarged
// (nearest neighbour) so a 28x28 field is readable on a screen.
#include <cstdint>
#include <string>
#include <vector>

#include "data/image.h"

namespace laplex::eval {

// A (channels, height, width) field as `channels` colour-mapped tiles (side
// by side up to 4, else in a near-square grid), all over the field's min..max (or the symmetric range
// [-max|v|, max|v|] when `symmetric`, for signed weights).
data::Image field_picture(const std::vector<float>& values, std::int64_t channels,
                          std::int64_t height, std::int64_t width, bool symmetric);

// Pixel values in [0, 1] of a (channels, height, width) image (1 or 3
// channels) as an 8-bit picture, clipped.
data::Image unit_image_picture(const std::vector<float>& values, std::int64_t channels,
                               std::int64_t height, std::int64_t width);

// Tiles of one size in rows of `columns`, separated by a `gap` of white.
data::Image grid(const std::vector<data::Image>& tiles, std::int64_t columns, std::int64_t gap = 2);

// Each pixel repeated `factor` times in both directions.
data::Image enlarge(const data::Image& image, std::int64_t factor);

// Creates the --explain folder (and its parents) where pictures go; a path
// that is a file, or that cannot be created, is a UsageError naming it.
void make_picture_folder(const std::string& out_dir);
// The same check of a file in the way, without creating anything: for a
// caller that makes the folder only once it has a picture to write.
void check_picture_folder(const std::string& out_dir);

// The enlargement that brings the longer side of an image to about `target` pixels (>= 1).
std::int64_t enlargement_for(std::int64_t height, std::int64_t width, std::int64_t target = 224);

}  // namespace laplex::eval
