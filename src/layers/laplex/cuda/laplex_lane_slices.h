#pragma once
// How many batch rows the CUDA lane kernels (laplex_lane_scan.cuh) take at a
// time. The lanes work on transposed copies of the batch arrays (x and y in
// the forward; x, g and dx in the backward), so every event's gather is one
// coalesced access whatever the anchor order. Copying a whole large batch
// would not fit next to the arrays themselves: at n = 2^26 and B = 64 each
// float32 array is 16 GiB, and x, y, g and dx take 64 of an H100's 79.6 GiB.
// Instead the batch is cut into slices of rows, and each slice is
// transposed, scanned and transposed back in turn; the copies then hold one
// slice. Host code only, so the rule is unit-tested on machines without a
// GPU.
#include <algorithm>
#include <cstdint>

namespace laplex::cuda {

// Smaller batches take the event-parallel kernels: most of a warp's 32
// lanes would idle.
constexpr std::int64_t kLaneMinBatch = 16;
// A slice keeps at least 8 rows (one 32-byte sector of float32 per event);
// below that the event-parallel kernels do better.
constexpr std::int64_t kLaneMinSliceRows = 8;
// No transposed copy is larger than this, whatever the budget.
constexpr std::int64_t kLaneMaxCopyBytes = std::int64_t{1} << 33;

// The transposed copies one call holds: x, g and dx in the backward. The
// forward holds two (x and y) but takes the backward's slice rows, so that
// the caching allocator hands the backward the forward's blocks again
// instead of new ones next to them.
constexpr std::int64_t kLaneCopies = 3;

// Rows per slice for `batch` rows of `width` elements of `element_bytes`,
// when kLaneCopies transposed arrays and `other_row_bytes` per row (the
// chunk totals) must fit in `budget_bytes` together: the whole batch when
// it fits, else a multiple of 32 rows (whole warps), else as many rows as
// fit; 0 means the event-parallel kernels (a small batch, or fewer than
// kLaneMinSliceRows rows fit).
inline std::int64_t lane_slice_rows(std::int64_t batch, std::int64_t width,
                                    std::int64_t element_bytes, std::int64_t other_row_bytes,
                                    std::int64_t budget_bytes) {
  if (batch < kLaneMinBatch) return 0;
  const std::int64_t copy_row_bytes = std::max<std::int64_t>(width, 1) * element_bytes;
  const std::int64_t fit =
      std::min(kLaneMaxCopyBytes / copy_row_bytes,
               budget_bytes / (kLaneCopies * copy_row_bytes + other_row_bytes));
  if (fit >= batch) return batch;
  if (fit >= 32) return fit / 32 * 32;
  return fit >= kLaneMinSliceRows ? fit : 0;
}

// The default budget for all the transposed copies of one call and their
// chunk totals: an eighth of the device's memory (10 GB on an 80 GB H100),
// so a batch that fits on the device with its gradients still fits with the
// copies.
inline std::int64_t default_lane_copy_budget(std::int64_t device_bytes) {
  return device_bytes / 8;
}

}  // namespace laplex::cuda
