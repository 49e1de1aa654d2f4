// The rule that cuts a large batch into row slices for the CUDA lane
// kernels (layers/laplex/cuda/laplex_lane_slices.h). Host code: runs
// without a GPU.
#include <gtest/gtest.h>

#include <cstdint>

#include "layers/laplex/cuda/laplex_lane_slices.h"

namespace laplex::cuda {
namespace {

constexpr std::int64_t kGiB = std::int64_t{1} << 30;
constexpr std::int64_t kMiB = std::int64_t{1} << 20;

TEST(LaplexLaneSlices, SmallBatchesTakeTheEventParallelKernels) {
  EXPECT_EQ(lane_slice_rows(1, 1 << 20, 4, 0, 10 * kGiB), 0);
  EXPECT_EQ(lane_slice_rows(kLaneMinBatch - 1, 1 << 20, 4, 0, 10 * kGiB), 0);
  EXPECT_EQ(lane_slice_rows(kLaneMinBatch, 1 << 20, 4, 0, 10 * kGiB), kLaneMinBatch);
}

TEST(LaplexLaneSlices, ABatchThatFitsIsOneSlice) {
  // 2^20 wide, B = 64, float32: 4 MiB a row of a copy, three copies.
  EXPECT_EQ(lane_slice_rows(64, 1 << 20, 4, 0, 10 * kGiB), 64);
  EXPECT_EQ(lane_slice_rows(64, 1 << 20, 4, 0, kLaneCopies * 64 * 4 * kMiB), 64);
  EXPECT_EQ(lane_slice_rows(37, 3000, 8, 0, kLaneCopies * 37 * 3000 * 8), 37);
}

TEST(LaplexLaneSlices, TheChunkTotalsCountAgainstTheBudget) {
  // The budget of 64 rows of copies, with 1 MiB of totals a row: 59 rows.
  EXPECT_EQ(lane_slice_rows(64, 1 << 20, 4, kMiB, kLaneCopies * 64 * 4 * kMiB), 32);
  EXPECT_EQ(lane_slice_rows(31, 1 << 20, 4, kMiB, kLaneCopies * 31 * 4 * kMiB), 28);
}

TEST(LaplexLaneSlices, LargeBatchesRunInWholeWarpsOfRows) {
  // 2^24 wide, B = 64, three copies in 10 GiB: 53 rows fit.
  EXPECT_EQ(lane_slice_rows(64, 1 << 24, 4, 0, 10 * kGiB), 32);
  // One row short of the whole batch.
  EXPECT_EQ(lane_slice_rows(100, 1000, 4, 0, 99 * kLaneCopies * 4000), 96);
}

TEST(LaplexLaneSlices, FewerThanAWarpOfRowsKeepsWhatFits) {
  // 2^26 wide (256 MiB a row of a copy) and 2^27 events (2^21 chunks, two
  // directions of 16-byte totals: 64 MiB a row): an eighth of an 80 GB H100
  // takes 11 rows, of a 141 GB H200 20.
  const std::int64_t totals = 2 * (std::int64_t{1} << 21) * 16;
  const std::int64_t h100 = default_lane_copy_budget(std::int64_t{80} * 1000 * 1000 * 1000);
  const std::int64_t h200 = default_lane_copy_budget(std::int64_t{141} * 1000 * 1000 * 1000);
  EXPECT_EQ(lane_slice_rows(64, 1 << 26, 4, totals, h100), 11);
  EXPECT_EQ(lane_slice_rows(64, 1 << 26, 4, totals, h200), 20);
  const std::int64_t row = kLaneCopies * 4000;
  EXPECT_EQ(lane_slice_rows(64, 1000, 4, 0, kLaneMinSliceRows * row), kLaneMinSliceRows);
  EXPECT_EQ(lane_slice_rows(64, 1000, 4, 0, (kLaneMinSliceRows - 1) * row), 0);
}

TEST(LaplexLaneSlices, NoCopyPassesEightGiB) {
  // A huge budget: 2^26 floats a row, 32 rows are 8 GiB.
  EXPECT_EQ(lane_slice_rows(64, 1 << 26, 4, 0, 1000 * kGiB), 32);
  EXPECT_EQ(lane_slice_rows(64, 1 << 27, 4, 0, 1000 * kGiB), 16);
}

}  // namespace
}  // namespace laplex::cuda
