// The grid statistic of a LAPLEX-OU chain (ou_chain_layout.h) on orders
// whose links are known: raster, serpentine, a diagonal walk, ties.
#include "layers/covariance/ou_chain_layout.h"

#include <gtest/gtest.h>

#include "core/random.h"
#include "layers/covariance/ou_anchors.h"

namespace laplex {
namespace {

std::vector<float> anchors(const ImageShape& image, const std::string& order) {
  Generator generator(1);
  const auto t = ou_initial_anchors(image[0] * image[1] * image[2], image, order, generator);
  return std::vector<float>(t.begin(), t.end());
}

TEST(OuChainLayout, RasterLinksEveryRowButNotTheJumpsBetweenRowsOrPlanes) {
  const ImageShape image{2, 3, 4};
  const OuChainLayout r = ou_chain_layout(anchors(image, "raster"), image);
  EXPECT_EQ(r.links, 23);
  EXPECT_EQ(r.grid_links, 2 * 3 * 3);  // W - 1 per row
  EXPECT_EQ(r.diagonal_links, 0);
  EXPECT_DOUBLE_EQ(r.grid_fraction(), 18.0 / 23.0);
}

TEST(OuChainLayout, SerpentineLinksEverythingInsideAPlane) {
  const ImageShape image{2, 3, 4};
  const OuChainLayout s = ou_chain_layout(anchors(image, "serpentine"), image);
  EXPECT_EQ(s.grid_links, 2 * (12 - 1));
}

TEST(OuChainLayout, DiagonalStepsAndTiesInIndexOrder) {
  // 3x3 plane: the diagonal 0, 4, 8 first, then the rest tied (index order:
  // 1, 2, 3, 5, 6, 7).
  const ImageShape image{1, 3, 3};
  const std::vector<float> t{0, 5, 5, 5, 1, 5, 5, 5, 2};
  const OuChainLayout d = ou_chain_layout(t, image);
  EXPECT_EQ(d.diagonal_links, 2);  // 0-4, 4-8
  // 8-1 no, 1-2 yes, 2-3 no, 3-5 no, 5-6 no, 6-7 yes.
  EXPECT_EQ(d.grid_links, 2);
  EXPECT_EQ(d.channel_links, 0);
  EXPECT_EQ(ou_chain_layout({3.0f}, {1, 1, 1}).links, 0);
}

TEST(OuChainLayout, CountsLinksBetweenTheChannelsOfOnePixel) {
  // Two channels (r, g) of a 1x3 image, visited 0r 0g 1g 1r 2r 2g: every
  // other link joins a pixel's two channels, the others a row's neighbours.
  const ImageShape image{2, 1, 3};
  const std::vector<float> t{0, 3, 4, 1, 2, 5};
  const OuChainLayout c = ou_chain_layout(t, image);
  EXPECT_EQ(c.channel_links, 3);
  EXPECT_EQ(c.grid_links, 2);
}

}  // namespace
}  // namespace laplex
