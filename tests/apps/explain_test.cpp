// laplex-eval --explain pictures of LAPLEX layers: which layers count as
// seeing an image, and the picture sizes that follow from the image grid.
#include "apps/eval/explain_laplex.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "config/config_node.h"
#include "data/image.h"
#include "layers/registry.h"

namespace laplex::eval {
namespace {

std::shared_ptr<Module> build(const std::string& yaml) {
  BuildContext context{4};
  return build_module(config::ConfigNode(YAML::Load(yaml), "test.yaml", "model"), context);
}

std::filesystem::path fresh(const std::string& name) {
  const auto dir = std::filesystem::temp_directory_path() / ("laplex_explain_" + name);
  std::filesystem::remove_all(dir);
  return dir;
}

TEST(ExplainLaplex, FeatureMapsOfAConvolutionCountAsAnImage) {
  auto model = build(R"(type: sequential
layers:
  - {type: conv2d, in_channels: 1, out_channels: 9, kernel_size: 3, padding: 1}
  - {type: relu}
  - {type: flatten}
  - {type: laplex, in: 324, out: 3, heads: 2}
)");
  const auto dir = fresh("cnn");
  const auto files = explain_laplex_layers(*model, {1, 1, 6, 6}, dir.string());
  ASSERT_EQ(files.size(), 5u);  // s, three rows, the rows grid
  // Nine 6x6 feature maps in a 3x3 grid (2-pixel gaps) per head, enlarged to about 224 pixels.
  const auto s = data::read_image((dir / "model.3.s.png").string());
  const std::int64_t panel = 3 * 6 + 2 * 2, zoom = 224 / panel;
  EXPECT_EQ(s.height, panel * zoom);
  EXPECT_EQ(s.width, 2 * panel * zoom + 4);  // two heads side by side, 4-pixel gap
  EXPECT_EQ(data::read_image((dir / "model.3.row2.png").string()).width, panel * zoom);
}

TEST(ExplainLaplex, LayersThatDoNotSeeAnImageGetNoPicture) {
  auto model = build(R"(type: sequential
layers:
  - {type: flatten}
  - {type: linear, in: 16, out: 8}
  - {type: laplex, in: 8, out: 2}
)");
  const auto none = fresh("none");
  EXPECT_TRUE(explain_laplex_layers(*model, {1, 1, 4, 4}, none.string()).empty());
  EXPECT_FALSE(std::filesystem::exists(none)) << "an empty --explain folder was made";
  auto single = build("{type: laplex, in: 16, out: 2}");
  EXPECT_TRUE(explain_laplex_layers(*single, {1, 16}, fresh("single").string()).empty());
}

}  // namespace
}  // namespace laplex::eval
