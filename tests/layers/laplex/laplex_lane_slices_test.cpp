// The rule that cuts a large batch into row slices for the CUDA lane
// kernels (layers/laplex/cuda/laplex_lane_slices.h). Host code: runs
// without a GPU.
#include <gtest/gtest.h>

#include <cstdint>

#include "layers/laplex/cuda/laplex_lane_slices.h"

namespace laplex::cuda {
namespace {

constexpr std::int64_t kGiB = std::int64_t{1} << 30;

TEST(LaplexLaneSlices, SmallBatchesTakeTheEventParallelKernels) {
  EXPECT_EQ(lane_slice_rows(1, 1 << 20, 4, 2, 10 * kGiB), 0);
  EXPECT_EQ(lane_slice_rows(kLaneMinBatch - 1, 1 << 20, 4, 2, 10 * kGiB), 0);
  EXPECT_EQ(lane_slice_rows(kLaneMinBatch, 1 << 20, 4, 2, 10 * kGiB), kLaneMinBatch);
}

TEST(LaplexLaneSlices, ABatchThatFitsIsOneSlice) {
  // 2^20 wide, B = 64, float32: 256 MiB a copy.
  EXPECT_EQ(lane_slice_rows(64, 1 << 20, 4, 3, 10 * kGiB), 64);
  EXPECT_EQ(lane_slice_rows(64, 1 << 20, 4, 3, 3 * 256 * (1 << 20)), 64);
  EXPECT_EQ(lane_slice_rows(37, 3000, 8, 2, 2 * 37 * 3000 * 8), 37);
}

TEST(LaplexLaneSlices, LargeBatchesRunInWholeWarpsOfRows) {
  // 2^24 wide, B = 64, three copies in 10 GiB: 3.33 GiB a copy, 53 rows fit.
  EXPECT_EQ(lane_slice_rows(64, 1 << 24, 4, 3, 10 * kGiB), 32);
  // One row short of the whole batch.
  EXPECT_EQ(lane_slice_rows(100, 1000, 4, 1, 99 * 4000), 96);
}

TEST(LaplexLaneSlices, FewerThanAWarpOfRowsKeepsWhatFits) {
  // 2^26 wide (256 MiB a row): the forward's two copies in 10 GB of an
  // H100 give 18 rows, the backward's three 12.
  const std::int64_t h100 = default_lane_copy_budget(std::int64_t{80} * 1000 * 1000 * 1000);
  EXPECT_EQ(lane_slice_rows(64, 1 << 26, 4, 2, h100), 18);
  EXPECT_EQ(lane_slice_rows(64, 1 << 26, 4, 3, h100), 12);
  EXPECT_EQ(lane_slice_rows(64, 1000, 4, 1, kLaneMinSliceRows * 4000), kLaneMinSliceRows);
  EXPECT_EQ(lane_slice_rows(64, 1000, 4, 1, (kLaneMinSliceRows - 1) * 4000), 0);
}

TEST(LaplexLaneSlices, NoCopyPassesEightGiB) {
  // A huge budget: 2^26 floats a row, 32 rows are 8 GiB.
  EXPECT_EQ(lane_slice_rows(64, 1 << 26, 4, 1, 1000 * kGiB), 32);
  EXPECT_EQ(lane_slice_rows(64, 1 << 27, 4, 1, 1000 * kGiB), 16);
}

}  // namespace
}  // namespace laplex::cuda
