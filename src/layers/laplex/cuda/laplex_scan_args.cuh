#pragma once
// What every LAPLEX scan kernel takes (laplex_scan_cuda.cu: one thread per
// run of events; laplex_lane_scan.cuh: one lane per batch row) and the small
// device helpers they share.
#include <cuda_runtime.h>

#include <cstdint>

#include "layers/laplex/cuda/laplex_scan.cuh"
#include "layers/laplex/laplex_plan.h"

namespace laplex::cuda {

using scan::Agg;
using scan::Complex;
using scan::KeyOf;

constexpr int kThreads = 256;
template <class T>
inline constexpr int kItems = sizeof(T) == 4 ? 8 : 4;
template <class T>
inline constexpr int kChunk = kThreads * kItems<T>;
// Padding past the last event; no real code has every bit set (m, n < 2^31 - 1).
constexpr std::uint32_t kNoEvent = 0xffffffffu;

enum class Mode { forward, target_grad, source_grad };

template <class T>
struct ScanArgs {
  const KeyOf<T>* keys = nullptr;  // this head's sorted events
  const std::uint32_t* codes = nullptr;
  std::int64_t events = 0, m = 0, n = 0, batch = 0;
  std::int64_t rows_per_group = 1, chunks = 1;
  int head = 0;
  const T* x = nullptr;  // (B, n)
  const T* g = nullptr;  // (B, m)
  const T* u = nullptr;  // this head's gains (m) or null
  const T* v = nullptr;  // this head's gains (n) or null
  const T* rho = nullptr;
  const T* omega = nullptr;  // null when unphased
  const T* phi = nullptr;
  void* totals_asc = nullptr;  // (B, chunks) aggregates, then carries
  void* totals_desc = nullptr;
  T* rows_out = nullptr;  // forward: y (B, m); source grad: dx (B, n)
  const T* bias = nullptr;
  bool accumulate = false;  // add into rows_out (heads after the first)
  // Per-event sums over the batch, row group k at k * acc_stride:
  // target grad: acc1 = dt, acc2 = du; source grad: acc1 = ds, acc2 = dv.
  T* acc1 = nullptr;
  T* acc2 = nullptr;
  std::int64_t acc_stride = 0;
  T* scalars = nullptr;  // target grad: per block dphi, dalpha, domega
  // Lane kernels on a later slice of rows: add into acc1 and acc2
  // (add_to_sums) and into scalars (add_to_scalars) instead of writing them.
  bool add_to_sums = false;
  bool add_to_scalars = false;
};

template <class T>
__device__ __forceinline__ T softplus(T rho) {
  if constexpr (sizeof(T) == 4)
    return rho > T(30) ? rho : log1pf(expf(rho));
  else
    return rho > T(30) ? rho : log1p(exp(rho));
}

template <class T>
__device__ __forceinline__ T sigmoid(T rho) {
  if (rho >= T(0)) return T(1) / (T(1) + scan::exp_of(-rho));
  const T e = scan::exp_of(rho);
  return e / (T(1) + e);
}

// Re and Im of e^{i phi} X; real states belong to unphased heads (phi = 0).
template <class T, class C>
__device__ __forceinline__ T twist_re(C x, T cos_phi, T sin_phi) {
  return cos_phi * scan::real_part(x) - sin_phi * scan::imag_part(x);
}
template <class T, class C>
__device__ __forceinline__ T twist_im(C x, T cos_phi, T sin_phi) {
  return sin_phi * scan::real_part(x) + cos_phi * scan::imag_part(x);
}

template <class T>
__device__ __forceinline__ T block_sum(T value, T* smem) {
  for (int d = 16; d > 0; d >>= 1) value += __shfl_down_sync(0xffffffffu, value, d);
  if ((threadIdx.x & 31) == 0) smem[threadIdx.x >> 5] = value;
  __syncthreads();
  T total = 0;
  if (threadIdx.x == 0)
    for (int w = 0; w < kThreads / 32; ++w) total += smem[w];
  __syncthreads();
  return total;
}

}  // namespace laplex::cuda
