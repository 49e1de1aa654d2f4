#pragma once
// The CUDA LAPLEX kernels (laplex-math.md sections 2 and 3), host entry
// points. Per head: one CUB radix sort of the merged anchors (the plan), then
// every apply is a pair of chunked parallel scans (ascending and descending)
// over the sorted events: chunk totals, a scan of the totals, and a rescan of
// each chunk from its carry. Everything is queued on the device's compute
// stream: no host synchronisation inside forward or backward.
//
// Memory (float32, H = 1, B = 1, no gains; per element with m = n):
//   plan: 8 bytes per event (sort key + event code), 2 events per element,
//         plus 16 bytes per element of sort scratch while sorting;
//   x, y, gy, dx, dt, ds, t, s: 4 bytes each.
// See docs/laplex-cuda.md for the measured peak at n = 2^30.
#include <cstdint>

#include "core/tensor.h"
#include "layers/laplex/laplex_shape.h"

namespace laplex::cuda {

// The sorted events of every head, on the GPU: codes as in the CPU plan
// (target index | kLaplexTargetBit, or source index); keys are the anchors
// mapped to unsigned integers of the same order (float32 -> 32 bits, float64
// -> 64 bits), from which positions are recovered exactly.
struct LaplexCudaPlan {
  std::int64_t m = 0, n = 0, heads = 0;
  Tensor keys;   // (H, m + n), i32 or i64 bit patterns
  Tensor codes;  // (H, m + n), i32 bit patterns
  std::int64_t events() const { return m + n; }
};

// Knobs of the kernels' launch that change only the rounding of results
// (the order of sums); tests set them to exercise paths that only very
// large inputs reach otherwise.
struct LaplexCudaTuning {
  // Bytes the lane kernels' transposed copies of the batch arrays and their
  // chunk totals may take together (laplex_lane_slices.h); 0: an eighth of
  // the device's memory.
  std::int64_t lane_copy_budget_bytes = 0;
  // Rows per slice of the lane kernels whatever the budget (at most the
  // batch; for batches of kLaneMinBatch and more); 0: from the budget.
  std::int64_t lane_slice_rows = 0;
  // Chunk totals per segment of the carries (laplex_carries.cuh); 0: enough
  // segments to fill the device.
  std::int64_t carries_segment_chunks = 0;
};

// Sorts t (H, m) and s (H, n), contiguous CUDA tensors of one float dtype.
// Ties: sources before targets, each in index order (the CPU plan's order).
LaplexCudaPlan make_laplex_plan_cuda(const LaplexShape& shape, const Tensor& t, const Tensor& s);

// y (B, m) = x W^T (+ bias when not null), summed over heads. Raw device
// pointers of contiguous tensors; rho, omega and phi are read on the device.
template <class T>
void laplex_forward_cuda(const LaplexCudaPlan& plan, const LaplexShape& shape,
                         const LaplexParamPtrs<T>& params, const T* x, const T* bias, T* y,
                         int device, const LaplexCudaTuning& tuning = {});

// Every gradient of section 3 that `grads` asks for (null = skipped), for
// the loss sum(gy * y). Overwrites, never accumulates.
template <class T>
void laplex_backward_cuda(const LaplexCudaPlan& plan, const LaplexShape& shape,
                          const LaplexParamPtrs<T>& params, const T* x, const T* gy,
                          const LaplexGradPtrs<T>& grads, int device,
                          const LaplexCudaTuning& tuning = {});

}  // namespace laplex::cuda
