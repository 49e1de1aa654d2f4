#include "apps/eval/explain_density.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <numeric>
#include <span>

#include "apps/eval/picture.h"
#include "core/autograd/grad_mode.h"
#include "core/ops/elementwise.h"
#include "data/atomic_file.h"
#include "layers/covariance/density_model.h"
#include "layers/covariance/laplex_ou.h"
#include "layers/covariance/ou_chain_layout.h"

namespace laplex::eval {

namespace {

constexpr std::int64_t kPanelSide = 256;
constexpr std::int64_t kSamples = 8;

struct Grid {
  std::int64_t channels, height, width;
};

// Box-averages a (C, H, W) field by `factor` in both directions.
std::vector<float> shrink(const std::vector<float>& v, const Grid& g, std::int64_t factor, Grid& out) {
  out = {g.channels, g.height / factor, g.width / factor};
  if (factor <= 1) {
    out = g;
    return v;
  }
  std::vector<float> r(out.channels * out.height * out.width, 0.0f);
  const float scale = 1.0f / static_cast<float>(factor * factor);
  for (std::int64_t c = 0; c < out.channels; ++c)
    for (std::int64_t y = 0; y < out.height * factor; ++y)
      for (std::int64_t x = 0; x < out.width * factor; ++x)
        r[(c * out.height + y / factor) * out.width + x / factor] +=
            v[(c * g.height + y) * g.width + x] * scale;
  return r;
}

class Pictures {
 public:
  Pictures(const Grid& grid, std::string out_dir) : grid_(grid), out_dir_(std::move(out_dir)) {
    const std::int64_t side = std::max(grid.height, grid.width);
    shrink_ = std::max<std::int64_t>(1, side / kPanelSide);
    zoom_ = shrink_ > 1 ? 1 : enlargement_for(grid.height, grid.width, kPanelSide);
  }
  void field(const std::string& name, const std::vector<float>& values, bool symmetric) {
    Grid small;
    const auto v = shrink(values, grid_, shrink_, small);
    save(name, enlarge(field_picture(v, small.channels, small.height, small.width, symmetric), zoom_));
  }
  data::Image image(const std::vector<float>& values) const {
    Grid small;
    const auto v = shrink(values, grid_, shrink_, small);
    if (small.channels == 1 || small.channels == 3)
      return enlarge(unit_image_picture(v, small.channels, small.height, small.width), zoom_);
    return enlarge(field_picture(v, small.channels, small.height, small.width, false), zoom_);
  }
  void save(const std::string& name, const data::Image& picture) {
    const std::string path = (std::filesystem::path(out_dir_) / name).string();
    data::write_png(path, picture);
    written_.push_back(path);
  }
  void text(const std::string& name, const std::string& contents) {
    const std::string path = (std::filesystem::path(out_dir_) / name).string();
    data::write_file_atomically(path, std::span<const std::uint8_t>(
                                    reinterpret_cast<const std::uint8_t*>(contents.data()), contents.size()));
    written_.push_back(path);
  }
  const std::vector<std::string>& written() const { return written_; }

 private:
  Grid grid_;
  std::string out_dir_;
  std::int64_t shrink_ = 1, zoom_ = 1;
  std::vector<std::string> written_;
};

// r = exp(-alpha (t_next - t_i)) of each dimension with the next anchor in
// sorted order (0 for the last): how strongly the learned chain couples a
// pixel to its successor, where t itself only shows the order.
std::vector<float> chain_links(const std::vector<float>& t, double alpha) {
  std::vector<std::int64_t> order(t.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](auto a, auto b) { return t[a] < t[b]; });
  std::vector<float> link(t.size(), 0.0f);
  for (std::size_t k = 0; k + 1 < order.size(); ++k)
    link[order[k]] = static_cast<float>(std::exp(-alpha * (t[order[k + 1]] - t[order[k]])));
  return link;
}

// A few pixels worth looking at: the centre, two off-centre points, a corner region.
std::vector<std::int64_t> chosen_pixels(const Grid& g) {
  const auto at = [&](std::int64_t y, std::int64_t x) { return y * g.width + x; };
  return {at(g.height / 2, g.width / 2), at(g.height / 4, g.width / 4),
          at(g.height / 4, (3 * g.width) / 4), at((7 * g.height) / 8, g.width / 8)};
}

}  // namespace

std::vector<std::string> explain_density_model(Module& model, const Shape& example,
                                               std::uint64_t seed, const std::string& out_dir) {
  auto* density = dynamic_cast<DensityModel*>(&model);
  if (!density)
    throw UsageError("checkpoint: --explain on a covariance checkpoint needs a density model, got '" +
                     model.type_name() + "'");
  NoGradGuard no_grad;
  make_picture_folder(out_dir);
  const Grid layout = example.size() == 3 ? Grid{example[0], example[1], example[2]}
                                        : Grid{1, 1, numel(example)};
  Pictures pictures(layout, out_dir);
  const std::int64_t n = density->dims();

  Generator generator(derive_seed(seed, 0x5A3B1E5ull));
  const auto draws = density->sample(kSamples, generator).to_vector<float>();
  std::vector<data::Image> tiles;
  for (std::int64_t k = 0; k < kSamples; ++k)
    tiles.push_back(pictures.image(std::vector<float>(draws.begin() + k * n, draws.begin() + (k + 1) * n)));
  pictures.save("samples.png", grid(tiles, 4, 4));

  if (auto* ou = dynamic_cast<LaplexOu*>(density)) {
    pictures.field("mean.png", ou->mu.to_vector<float>(), false);
    const auto t = ou->t.to_vector<float>();
    pictures.field("t.png", t, false);
    const OuChainLayout chain = ou_chain_layout(t, {layout.channels, layout.height, layout.width});
    const nlohmann::json summary = {{"links", chain.links},
                                    {"grid_neighbour_links", chain.grid_links},
                                    {"diagonal_neighbour_links", chain.diagonal_links},
                                    {"same_pixel_channel_links", chain.channel_links},
                                    {"grid_neighbour_fraction", chain.grid_fraction()}};
    pictures.text("chain_layout.json", summary.dump(2) + "\n");
    pictures.field("links.png", chain_links(t, softplus(ou->rho).item()), false);
    pictures.field("d.png", softplus(ou->d).to_vector<float>(), false);
    for (std::int64_t p : chosen_pixels(layout))
      pictures.field("cov_row_" + std::to_string(p) + ".png", ou->covariance_row(p).to_vector<float>(),
                     false);
  }
  return pictures.written();
}

}  // namespace laplex::eval
