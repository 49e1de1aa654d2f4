#pragma once
// Launch 2 of every LAPLEX scan pass: per batch row and direction, the
// chunk totals become exclusive carries (the state entering each chunk).
// Position q in scan order is chunk q ascending and chunk chunks - 1 - q
// descending.
//
// One block per (row, direction) walking all of a row's totals in turn
// leaves most of the GPU idle when rows are few and chunks many (a lane
// slice of 11 rows at n = 2^26 has 2^21 chunks a row, 22 blocks in all).
// So each row's positions are cut into segments, and three launches do a
// scan of scans: every segment's total, the exclusive scan of those totals
// per row (one short walk), then every segment rescanned from its carry.
// The combine order is fixed by the segment length, which depends on the
// rows, the chunks and the device's multiprocessor count only: the same call
// on the same device gives the same bits.
#include <algorithm>
#include <cstdint>

#include "core/cuda/cuda_context.h"
#include "core/tensor.h"
#include "layers/laplex/cuda/laplex_scan.cuh"
#include "layers/laplex/cuda/laplex_scan_args.cuh"

namespace laplex::cuda {

// Totals a block combines per step (kThreads threads, 4 each).
constexpr std::int64_t kCarriesTile = std::int64_t{kThreads} * 4;

// Row blockIdx.x, direction blockIdx.z (1: descending), segment blockIdx.y
// of gridDim.y, covering positions [y * segment_length, (y + 1) *
// segment_length). Segment totals and carries live in (rows, segments)
// arrays, stored reversed when descending like the chunks' own.
//   kSegmentTotals: writes each segment's total there, totals untouched;
//   else: replaces the segment's totals by exclusive carries, starting from
//         the segment's carry (identity when segment_asc is null).
template <class T, class C, bool kMoments, bool kSegmentTotals>
__global__ void __launch_bounds__(kThreads)
    carries_kernel(void* totals_asc, void* totals_desc, std::int64_t chunks,
                   std::int64_t segment_length, void* segment_asc, void* segment_desc) {
  using A = Agg<T, C, kMoments>;
  constexpr int J = static_cast<int>(kCarriesTile / kThreads);
  __shared__ A s_scan[33];
  const bool descending = blockIdx.z == 1;
  const std::int64_t row = blockIdx.x, segment = blockIdx.y, segments = gridDim.y;
  A* totals = static_cast<A*>(descending ? totals_desc : totals_asc) + row * chunks;
  auto chunk_of = [&](std::int64_t q) { return descending ? chunks - 1 - q : q; };
  A* segment_slot = nullptr;
  if (segment_asc)
    segment_slot = static_cast<A*>(descending ? segment_desc : segment_asc) + row * segments +
                   (descending ? segments - 1 - segment : segment);
  const std::int64_t begin = segment * segment_length;
  const std::int64_t end = std::min(chunks, begin + segment_length);
  A carry = scan::identity<T, C, kMoments>();
  if (!kSegmentTotals && segment_slot) carry = *segment_slot;
  for (std::int64_t tile = begin; tile < end; tile += kCarriesTile) {
    A item[J];
    A mine = scan::identity<T, C, kMoments>();
    for (int j = 0; j < J; ++j) {
      const std::int64_t q = tile + threadIdx.x * J + j;
      item[j] = q < end ? totals[chunk_of(q)] : scan::identity<T, C, kMoments>();
      mine = scan::combine(mine, item[j]);
    }
    A tile_total;
    [[maybe_unused]] const A before = scan::block_exclusive_scan<false>(mine, s_scan, tile_total);
    if constexpr (!kSegmentTotals) {
      A run = scan::combine(carry, before);
      for (int j = 0; j < J; ++j) {
        const std::int64_t q = tile + threadIdx.x * J + j;
        if (q < end) totals[chunk_of(q)] = run;
        run = scan::combine(run, item[j]);
      }
    }
    carry = scan::combine(carry, tile_total);
  }
  if constexpr (kSegmentTotals)
    if (threadIdx.x == 0) *segment_slot = carry;
}

// Positions per segment: `wanted` when > 0 (tests), else whole tiles, as
// few segments as give the device about four blocks per multiprocessor.
inline std::int64_t carries_segment_length(std::int64_t rows, std::int64_t chunks,
                                           std::int64_t wanted, int device) {
  if (wanted > 0) return std::min(wanted, chunks);
  int sms = 0;
  check(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device),
        "cudaDeviceGetAttribute");
  const std::int64_t tiles = (chunks + kCarriesTile - 1) / kCarriesTile;
  const std::int64_t blocks_wanted = 4 * std::int64_t{sms};
  const std::int64_t segments =
      std::clamp<std::int64_t>((blocks_wanted + 2 * rows - 1) / (2 * rows), 1, tiles);
  const std::int64_t tiles_per_segment = (tiles + segments - 1) / segments;
  return tiles_per_segment * kCarriesTile;
}

// The carries of `rows` rows of `chunks` totals in both directions, in
// place; segment_length as carries_segment_length gives it.
template <class T, class C, bool kMoments>
void run_carries(void* totals_asc, void* totals_desc, std::int64_t rows, std::int64_t chunks,
                 std::int64_t segment_length, const Device& dev) {
  using A = Agg<T, C, kMoments>;
  cudaStream_t st = stream(dev.index);
  std::int64_t segments = (chunks + segment_length - 1) / segment_length;
  if (segments > 65535) {  // gridDim.y; trailing segments may then be empty
    segments = 65535;
    segment_length = (chunks + segments - 1) / segments;
  }
  const auto rows_x = static_cast<unsigned>(rows);
  if (segments == 1) {
    carries_kernel<T, C, kMoments, false><<<dim3(rows_x, 1, 2), kThreads, 0, st>>>(
        totals_asc, totals_desc, chunks, chunks, nullptr, nullptr);
    check_launch("laplex carries_kernel");
    return;
  }
  const std::int64_t slots = rows * segments;
  const Tensor segment_states = Tensor::empty(
      {2 * slots * static_cast<std::int64_t>(sizeof(A) / sizeof(float))}, DType::f32, dev);
  void* segment_asc = segment_states.raw_data();
  void* segment_desc = static_cast<A*>(segment_asc) + slots;
  const dim3 grid(rows_x, static_cast<unsigned>(segments), 2);
  carries_kernel<T, C, kMoments, true><<<grid, kThreads, 0, st>>>(
      totals_asc, totals_desc, chunks, segment_length, segment_asc, segment_desc);
  check_launch("laplex carries_kernel (segment totals)");
  carries_kernel<T, C, kMoments, false><<<dim3(rows_x, 1, 2), kThreads, 0, st>>>(
      segment_asc, segment_desc, segments, segments, nullptr, nullptr);
  check_launch("laplex carries_kernel (segment carries)");
  carries_kernel<T, C, kMoments, false><<<grid, kThreads, 0, st>>>(
      totals_asc, totals_desc, chunks, segment_length, segment_asc, segment_desc);
  check_launch("laplex carries_kernel (segments)");
}

}  // namespace laplex::cuda
