#include "apps/eval/explain_laplex.h"

#include <filesystem>

#include "apps/eval/picture.h"
#include "core/autograd/grad_mode.h"
#include "layers/laplex/laplex_layer.h"

namespace laplex::eval {

namespace {

// Classification heads have at most this many rows: one file each.
constexpr std::int64_t kRowsWithOwnFile = 32;

std::vector<std::string> explain_one(const LaplexLayer& layer, const std::string& name,
                                     const Shape& image, const std::string& out_dir) {
  const std::int64_t c = image[0], h = image[1], w = image[2];
  std::vector<std::string> written;
  auto save = [&](const std::string& file, const data::Image& picture) {
    const std::string path = (std::filesystem::path(out_dir) / file).string();
    data::write_png(path, picture);
    written.push_back(path);
  };

  const auto s = layer.s.to_vector<float>();
  const std::int64_t heads = layer.s.size(0), n = layer.s.size(1);
  std::vector<data::Image> head_tiles;
  for (std::int64_t k = 0; k < heads; ++k)
    head_tiles.push_back(
        field_picture(std::vector<float>(s.begin() + k * n, s.begin() + (k + 1) * n), c, h, w, false));
  // Enlarged so one head's panel is about 224 pixels a side.
  const std::int64_t zoom = enlargement_for(head_tiles[0].height, head_tiles[0].width);
  for (auto& tile : head_tiles) tile = enlarge(tile, zoom);
  save(name + ".s.png", grid(head_tiles, std::min<std::int64_t>(heads, 4), 4));

  const Tensor dense = layer.to_dense();  // (out, in)
  const auto values = dense.to_vector<float>();
  const std::int64_t rows = dense.size(0);
  std::vector<data::Image> row_tiles;
  for (std::int64_t r = 0; r < rows; ++r) {
    const std::vector<float> row(values.begin() + r * n, values.begin() + (r + 1) * n);
    row_tiles.push_back(field_picture(row, c, h, w, true));
    if (rows <= kRowsWithOwnFile)
      save(name + ".row" + std::to_string(r) + ".png", enlarge(row_tiles.back(), zoom));
  }
  const std::int64_t columns = rows <= 10 ? rows : 16;
  // About 96 pixels a tile: a grid of 256 rows stays a screen wide.
  std::vector<data::Image> small_tiles;
  for (const auto& tile : row_tiles)
    small_tiles.push_back(enlarge(tile, enlargement_for(tile.height, tile.width, 96)));
  save(name + ".rows.png", grid(small_tiles, columns));
  return written;
}

}  // namespace

std::vector<std::string> explain_laplex_layers(Module& model, const Shape& sample_shape,
                                               const std::string& out_dir) {
  NoGradGuard no_grad;
  model.eval();
  check_picture_folder(out_dir);
  std::vector<std::string> written;
  // A single layer (no sequential) sees the input itself.
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> layers = model.children();
  if (model.type_name() != "sequential") layers.clear();
  Tensor x = Tensor::zeros(sample_shape);
  Shape image;  // the (C, H, W) that the last flatten turned into a row
  for (const auto& [index, child] : layers) {
    if (child->type_name() == "flatten" && x.dim() == 4)
      image = Shape(x.shape().begin() + 1, x.shape().end());
    if (auto* laplex = dynamic_cast<LaplexLayer*>(child.get());
        laplex && !image.empty() && numel(image) == laplex->options().in) {
      // Made here, not up front: a model with nothing to draw leaves no empty folder.
      make_picture_folder(out_dir);
      const auto files = explain_one(*laplex, "model." + index, image, out_dir);
      written.insert(written.end(), files.begin(), files.end());
    }
    if (child->type_name() != "flatten") image.clear();
    x = child->forward(x);
  }
  model.train();
  return written;
}

}  // namespace laplex::eval
