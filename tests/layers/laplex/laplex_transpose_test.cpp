// The CPU kernels' batch <-> lane transposes (laplex_transpose.h) against
// the plain definition, for both loop orders (short side rows or columns),
// sizes off the tile and block grid, and padded strides.
#include <gtest/gtest.h>

#include <cstdint>
#include <utility>
#include <vector>

#include "layers/laplex/laplex_transpose.h"

namespace laplex::testing {
namespace {

template <class T>
void check_transpose(std::int64_t rows, std::int64_t cols, std::int64_t src_pad,
                     std::int64_t dst_pad) {
  const std::int64_t ss = cols + src_pad, ds = rows + dst_pad;
  std::vector<T> src(static_cast<std::size_t>(rows * ss));
  for (std::size_t k = 0; k < src.size(); ++k) src[k] = static_cast<T>(k % 1000) + T(0.25);
  // Padding must come out as it went in.
  std::vector<T> dst(static_cast<std::size_t>(cols * ds), T(-1));
  cpu::lanes::transpose(src.data(), ss, dst.data(), ds, rows, cols);
  for (std::int64_t c = 0; c < cols; ++c)
    for (std::int64_t r = 0; r < ds; ++r) {
      const T want = r < rows ? src[r * ss + c] : T(-1);
      ASSERT_EQ(dst[c * ds + r], want) << "rows " << rows << " cols " << cols << " at " << c
                                       << ", " << r;
    }
}

TEST(LaplexTranspose, MatchesTheDefinition) {
  for (auto [rows, cols] : {std::pair<std::int64_t, std::int64_t>{1, 1},
                            {3, 5},
                            {8, 8},
                            {32, 1000},   // into lanes
                            {29, 517},
                            {1000, 32},   // out of lanes: several blocks
                            {517, 29},
                            {4099, 16},
                            {4099, 4},
                            {130, 9}}) {
    for (auto [src_pad, dst_pad] : {std::pair<std::int64_t, std::int64_t>{0, 0}, {3, 5}, {16, 8}}) {
      check_transpose<float>(rows, cols, src_pad, dst_pad);
      check_transpose<double>(rows, cols, src_pad, dst_pad);
    }
  }
}

}  // namespace
}  // namespace laplex::testing
