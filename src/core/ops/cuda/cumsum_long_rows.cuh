#pragma once
// Cumulative sums of long contiguous rows (inner == 1) on many blocks. The
// general kernel gives each row to one thread, which walks it alone: a row
// of 3·10^6 values kept one thread busy for milliseconds while the rest of
// the GPU idled. Here each row is cut into segments of kScanSegment values
// and scanned in three launches, a scan of scans:
//   1. segment_totals_kernel: the sum of every segment;
//   2. segment_carries_kernel: per row, the exclusive scan of those sums;
//   3. segment_scan_kernel: every segment scanned in shared memory from its
//      carry, read and written with coalesced accesses.
// Positions are taken in scan order, so `reverse` (the gradient's suffix
// sums) maps position p of a row to len - 1 - p. Every launch adds in a fixed
// order: the result is the same from run to run (it differs from a serial
// walk in the last bits, like any parallel sum).
#include <cstdint>

#include "core/cuda/cuda_context.h"
#include "core/ops/cuda/block_reduce.cuh"
#include "core/ops/reduce_kernels.h"
#include "core/tensor.h"

namespace laplex::cuda {

// 16 values per thread of a 256-thread block: 16 KiB of shared memory for
// float, 32 KiB for double, under the 48 KiB a block gets without opting in.
constexpr int kScanPerThread = 16;
constexpr std::int64_t kScanSegment = std::int64_t{kBlock} * kScanPerThread;

// Element p (in scan order) of row `row`.
__device__ inline std::int64_t scan_at(std::int64_t row, std::int64_t p, std::int64_t len,
                                       bool reverse) {
  return row * len + (reverse ? len - 1 - p : p);
}

// grid (segments, rows): totals[row * segments + s] = sum of segment s.
template <class T>
__global__ void segment_totals_kernel(const T* x, T* totals, std::int64_t len,
                                      std::int64_t segments, bool reverse) {
  __shared__ T partial[kBlock];
  const std::int64_t row = blockIdx.y;
  const std::int64_t begin = static_cast<std::int64_t>(blockIdx.x) * kScanSegment;
  const std::int64_t end = begin + kScanSegment < len ? begin + kScanSegment : len;
  T acc = T(0);
  for (std::int64_t p = begin + threadIdx.x; p < end; p += blockDim.x)
    acc += x[scan_at(row, p, len, reverse)];
  const T total = block_tree_sum(acc, partial);
  if (threadIdx.x == 0) totals[row * segments + blockIdx.x] = total;
}

// grid (rows): totals of a row become their exclusive prefix sums, kBlock at
// a time with the running carry.
template <class T>
__global__ void segment_carries_kernel(T* totals, std::int64_t segments) {
  __shared__ T shared[kBlock];
  T* row = totals + static_cast<std::int64_t>(blockIdx.x) * segments;
  T carry = T(0);
  for (std::int64_t base = 0; base < segments; base += blockDim.x) {
    const std::int64_t s = base + threadIdx.x;
    const T value = s < segments ? row[s] : T(0);
    const T inclusive = block_inclusive_scan(value, shared);
    if (s < segments) row[s] = carry + inclusive - value;
    // The last thread's inclusive value is this stretch's total.
    if (threadIdx.x == blockDim.x - 1) shared[0] = inclusive;
    __syncthreads();
    carry += shared[0];
    __syncthreads();
  }
}

// grid (segments, rows): the segment, staged in shared memory, is scanned
// from its carry. Thread t owns values [t k, t k + k) of the segment.
template <class T>
__global__ void segment_scan_kernel(const T* x, const T* carries, T* out, std::int64_t len,
                                    std::int64_t segments, bool reverse) {
  __shared__ T values[kScanSegment];
  __shared__ T sums[kBlock];
  const std::int64_t row = blockIdx.y;
  const std::int64_t begin = static_cast<std::int64_t>(blockIdx.x) * kScanSegment;
  const std::int64_t count = len - begin < kScanSegment ? len - begin : kScanSegment;
  for (std::int64_t k = threadIdx.x; k < count; k += blockDim.x)
    values[k] = x[scan_at(row, begin + k, len, reverse)];
  __syncthreads();
  const std::int64_t first = static_cast<std::int64_t>(threadIdx.x) * kScanPerThread;
  T own = T(0);
  for (int j = 0; j < kScanPerThread; ++j)
    if (first + j < count) own += values[first + j];
  const T before = block_inclusive_scan(own, sums) - own + carries[row * segments + blockIdx.x];
  T running = before;
  for (int j = 0; j < kScanPerThread; ++j)
    if (first + j < count) {
      running += values[first + j];
      values[first + j] = running;
    }
  __syncthreads();
  for (std::int64_t k = threadIdx.x; k < count; k += blockDim.x)
    out[scan_at(row, begin + k, len, reverse)] = values[k];
}

// Rows long enough, and few enough for gridDim.y, to take this path.
inline bool cumsum_takes_segments(const ReduceGeometry& g) {
  return g.inner == 1 && g.reduced >= 2 * kScanSegment && g.outer <= 65535;
}

template <class T>
void cumsum_long_rows(const Tensor& x, const ReduceGeometry& g, const Tensor& out, bool reverse,
                      cudaStream_t s) {
  const std::int64_t segments = (g.reduced + kScanSegment - 1) / kScanSegment;
  const Tensor totals = Tensor::empty({g.outer * segments}, x.dtype(), x.device());
  const dim3 grid(static_cast<unsigned int>(segments), static_cast<unsigned int>(g.outer));
  segment_totals_kernel<T><<<grid, kBlock, 0, s>>>(x.data<T>(), totals.data<T>(), g.reduced,
                                                   segments, reverse);
  check_launch("segment_totals_kernel");
  segment_carries_kernel<T><<<static_cast<unsigned int>(g.outer), kBlock, 0, s>>>(
      totals.data<T>(), segments);
  check_launch("segment_carries_kernel");
  segment_scan_kernel<T><<<grid, kBlock, 0, s>>>(x.data<T>(), totals.data<T>(), out.data<T>(),
                                                 g.reduced, segments, reverse);
  check_launch("segment_scan_kernel");
}

}  // namespace laplex::cuda
