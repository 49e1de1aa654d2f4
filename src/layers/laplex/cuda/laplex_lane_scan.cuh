#pragma once
// LAPLEX scans with one lane per batch row (used for batches of 16 and
// more, a slice of rows at a time: laplex_lane_slices.h). The batch arrays
// are transposed first ((n, rows): the values of one event are
// contiguous), so every event's gather or store is one coalesced access of
// the warp, whatever the order of the anchors. A warp owns a chunk
// of kLaneChunk events and 32 rows and walks the chunk sequentially: no
// scan inside a chunk, no block barriers. Chunks are joined as in the other
// path: chunk totals (here as weighted sums, no recurrence), the carries
// kernel, then a rescan of each chunk from its carries.
#include <cuda_pipeline.h>

#include "layers/laplex/cuda/laplex_scan_args.cuh"

namespace laplex::cuda {

constexpr int kLaneChunk = 64;
constexpr int kLanePitch = 33;  // per-lane arrays: 33 columns, no bank conflicts

// A chunk's events, shared by the warp's 32 lanes (row-independent).
template <class T, class C>
struct LaneEvents {
  C e[kLaneChunk + 1];  // ascending decay over the gap before event k; [kLaneChunk]: after the last
  T gap[kLaneChunk + 1];
  T pos[kLaneChunk];
  std::uint32_t code[kLaneChunk];
  T gain[kLaneChunk];  // the event's own gain: u for a target, v for a source (1 without)
  T pos_before, pos_after;  // the events just outside the chunk (clamped at the ends)
};

// The row-independent weights of the chunk totals (launch 1): ascending
// decay to the chunk's last event, descending decay from its first.
template <class T, class C>
struct LaneWeights {
  C to_last[kLaneChunk], from_first[kLaneChunk];
};

// The totals kernel reads events in groups of this many: their global loads
// are issued together, before the recurrence that uses them (latency
// hiding).
constexpr int kLaneBatch = 8;

template <class T, class C>
struct LaneRates {
  T alpha, w_asc, cos_phi, sin_phi;
  C neg_lam, conj_lam;
};

template <class T, class C, Mode kMode>
__device__ __forceinline__ LaneRates<T, C> lane_rates(const ScanArgs<T>& a) {
  LaneRates<T, C> r;
  r.alpha = softplus(a.rho[a.head]);
  const T omega = a.omega ? a.omega[a.head] : T(0);
  const T phi = a.phi ? a.phi[a.head] : T(0);
  r.w_asc = kMode == Mode::source_grad ? -omega : omega;
  r.cos_phi = 1;
  r.sin_phi = 0;
  if constexpr (scan::kIsComplex<C>) {
    r.cos_phi = cos(phi);
    r.sin_phi = sin(phi);
    r.neg_lam = C{-r.alpha, omega};
    r.conj_lam = C{r.alpha, omega};
  } else {
    r.neg_lam = -r.alpha;
    r.conj_lam = r.alpha;
  }
  return r;
}

template <class T, class C>
__device__ void load_lane_events(const ScanArgs<T>& a, std::int64_t chunk,
                                 const LaneRates<T, C>& r, LaneEvents<T, C>& ev) {
  const int lane = threadIdx.x & 31;
  const std::int64_t base = chunk * kLaneChunk;
  auto position = [&](std::int64_t k) {
    k = std::min(std::max(k, std::int64_t{0}), a.events - 1);
    return scan::from_key(a.keys[k]);
  };
  for (int k = lane; k <= kLaneChunk; k += 32) {
    const T here = position(base + k), before = position(base + k - 1);
    ev.gap[k] = here - before;
    ev.e[k] = scan::decay<C>(r.alpha, r.w_asc, ev.gap[k]);
    if (k == kLaneChunk) {
      ev.pos_after = here;
      continue;
    }
    if (k == 0) ev.pos_before = before;
    ev.pos[k] = here;
    const std::uint32_t code = base + k < a.events ? a.codes[base + k] : kNoEvent;
    ev.code[k] = code;
    T gain = 1;
    if (code != kNoEvent) {
      const std::uint32_t index = code & ~kLaplexTargetBit;
      const T* gains = (code & kLaplexTargetBit) ? a.u : a.v;
      if (gains) gain = gains[index];
    }
    ev.gain[k] = gain;
  }
  __syncwarp();
}

// The source or target index of an event code.
__device__ __forceinline__ std::int64_t lane_index(std::uint32_t code) {
  return static_cast<std::int64_t>(code & ~kLaplexTargetBit);
}

template <Mode kMode>
__device__ __forceinline__ bool lane_adds(std::uint32_t code) {
  if (code == kNoEvent) return false;
  const bool target = code & kLaplexTargetBit;
  return kMode == Mode::source_grad ? target : !target;
}

template <Mode kMode>
__device__ __forceinline__ bool lane_reads(std::uint32_t code) {
  if (code == kNoEvent) return false;
  const bool target = code & kLaplexTargetBit;
  return kMode == Mode::source_grad ? !target : target;
}

// What an adding event contributes for this lane's row: v x (sources) or
// u g (targets), read from the transposed batch array.
template <class T, Mode kMode>
__device__ __forceinline__ T lane_add_value(const ScanArgs<T>& a, std::uint32_t code, T gain,
                                            std::int64_t row) {
  const T* batch = kMode == Mode::source_grad ? a.g : a.x;
  return gain * batch[lane_index(code) * a.batch + row];
}

// Launch 1: each (chunk, row) total of both directions, as weighted sums:
// ascending val = sum_k add_k D(p_last - p_k), descending
// val = sum_k add_k conj-D(p_k - p_first) (moments: times the distance).
template <class T, class C, bool kMoments, Mode kMode>
__global__ void lane_totals_kernel(ScanArgs<T> a, std::int64_t groups, int warps_per_block) {
  using A = Agg<T, C, kMoments>;
  extern __shared__ __align__(16) unsigned char lane_smem[];
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
  const std::int64_t task = static_cast<std::int64_t>(blockIdx.x) * warps_per_block + warp;
  if (task >= a.chunks * groups) return;
  const std::int64_t chunk = task / groups, group = task % groups;
  auto* events = reinterpret_cast<LaneEvents<T, C>*>(lane_smem);
  auto* weights = reinterpret_cast<LaneWeights<T, C>*>(events + warps_per_block);
  auto& ev = events[warp];
  auto& wt = weights[warp];
  const LaneRates<T, C> r = lane_rates<T, C, kMode>(a);
  load_lane_events(a, chunk, r, ev);
  const T first = ev.pos[0], last = ev.pos[kLaneChunk - 1];
  for (int k = lane; k < kLaneChunk; k += 32) {
    wt.to_last[k] = scan::decay<C>(r.alpha, r.w_asc, last - ev.pos[k]);
    wt.from_first[k] = scan::conj(scan::decay<C>(r.alpha, r.w_asc, ev.pos[k] - first));
  }
  __syncwarp();
  const std::int64_t row = group * 32 + lane;
  const bool valid = row < a.batch;
  C asc_val = scan::zero_state<C, T>(), asc_mom = asc_val, desc_val = asc_val, desc_mom = asc_val;
  for (int k0 = 0; k0 < kLaneChunk; k0 += kLaneBatch) {
    T add[kLaneBatch];
#pragma unroll
    for (int j = 0; j < kLaneBatch; ++j) {
      const std::uint32_t code = ev.code[k0 + j];
      add[j] = valid && lane_adds<kMode>(code) ? lane_add_value<T, kMode>(a, code, ev.gain[k0 + j], row) : T(0);
    }
#pragma unroll
    for (int j = 0; j < kLaneBatch; ++j) {
      const int k = k0 + j;
      asc_val = scan::add(asc_val, scan::scale(add[j], wt.to_last[k]));
      desc_val = scan::add(desc_val, scan::scale(add[j], wt.from_first[k]));
      if constexpr (kMoments) {
        asc_mom = scan::add(asc_mom, scan::scale(add[j], scan::gap_times(last - ev.pos[k], wt.to_last[k])));
        desc_mom = scan::add(desc_mom,
                             scan::scale(add[j], scan::gap_times(ev.pos[k] - first, wt.from_first[k])));
      }
    }
  }
  if (!valid) return;
  A asc, desc;
  asc.gap = last - ev.pos_before;
  asc.e = scan::decay<C>(r.alpha, r.w_asc, asc.gap);
  asc.val = asc_val;
  asc.mom = asc_mom;
  desc.gap = ev.pos_after - first;
  desc.e = scan::conj(scan::decay<C>(r.alpha, r.w_asc, desc.gap));
  desc.val = desc_val;
  desc.mom = desc_mom;
  const std::int64_t slot = row * a.chunks + chunk;
  static_cast<A*>(a.totals_asc)[slot] = asc;
  static_cast<A*>(a.totals_desc)[slot] = desc;
}

// Bytes of dynamic shared memory one warp of lane_apply_kernel needs.
template <class T, class C, bool kMoments, Mode kMode>
constexpr std::size_t lane_apply_warp_bytes() {
  const std::size_t cells = std::size_t{kLaneChunk} * kLanePitch;
  std::size_t bytes = sizeof(LaneEvents<T, C>);
  bytes += cells * sizeof(T);  // adds, then the first per-event sum
  bytes += cells * sizeof(C);  // ascending states at readers
  if (kMoments) bytes += cells * sizeof(C);
  if (kMode != Mode::forward) bytes += cells * sizeof(T);  // the second per-event sum
  return (bytes + 15) / 16 * 16;
}

// Launch 3: the chunk's batch values staged in shared memory, then the
// chunk walked ascending (adds and L kept in shared memory), then
// descending, where every reader event's epilogue runs.
template <class T, class C, bool kMoments, Mode kMode>
__global__ void lane_apply_kernel(ScanArgs<T> a, std::int64_t groups, int warps_per_block) {
  using A = Agg<T, C, kMoments>;
  constexpr std::size_t cells = std::size_t{kLaneChunk} * kLanePitch;
  extern __shared__ __align__(16) unsigned char lane_smem[];
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
  const std::int64_t task = static_cast<std::int64_t>(blockIdx.x) * warps_per_block + warp;
  if (task >= a.chunks * groups) return;
  const std::int64_t chunk = task / groups, group = task % groups;
  unsigned char* mine = lane_smem + warp * lane_apply_warp_bytes<T, C, kMoments, kMode>();
  auto& ev = *reinterpret_cast<LaneEvents<T, C>*>(mine);
  mine += sizeof(LaneEvents<T, C>);
  T* s_add = reinterpret_cast<T*>(mine);
  mine += cells * sizeof(T);
  C* s_left = reinterpret_cast<C*>(mine);
  mine += cells * sizeof(C);
  C* s_left_mom = reinterpret_cast<C*>(mine);
  if (kMoments) mine += cells * sizeof(C);
  T* s_second = reinterpret_cast<T*>(mine);

  const LaneRates<T, C> r = lane_rates<T, C, kMode>(a);
  load_lane_events(a, chunk, r, ev);
  const std::int64_t row = group * 32 + lane;
  const bool valid = row < a.batch;
  const std::int64_t slot = row * a.chunks + chunk;
  C val = scan::zero_state<C, T>(), mom = val;
  if (valid && a.totals_asc) {
    const A carry = static_cast<const A*>(a.totals_asc)[slot];
    val = carry.val;
    mom = carry.mom;
  }
  // Every batch value the walks need, the adds and (gradient modes) the
  // readers' g or x, is copied into shared memory before the walks, with
  // asynchronous copies: all of a lane's gathers of the chunk are in flight
  // at once (through registers, a few of them would be), and the walks read
  // shared memory only. A reader's value sits in its s_second cell, which
  // is read before the event's second sum overwrites it.
  for (int k = 0; k < kLaneChunk; ++k) {
    const std::uint32_t code = ev.code[k];
    T* add_cell = s_add + k * kLanePitch + lane;
    if (valid && lane_adds<kMode>(code)) {
      const T* batch = kMode == Mode::source_grad ? a.g : a.x;
      __pipeline_memcpy_async(add_cell, batch + lane_index(code) * a.batch + row, sizeof(T));
    } else {
      *add_cell = T(0);
    }
    if constexpr (kMode != Mode::forward) {
      T* read_cell = s_second + k * kLanePitch + lane;
      if (valid && lane_reads<kMode>(code)) {
        const T* batch = kMode == Mode::target_grad ? a.g : a.x;
        __pipeline_memcpy_async(read_cell, batch + lane_index(code) * a.batch + row, sizeof(T));
      } else {
        *read_cell = T(0);
      }
    }
  }
  __pipeline_commit();
  __pipeline_wait_prior(0);
  for (int k = 0; k < kLaneChunk; ++k) {
    const int cell = k * kLanePitch + lane;
    const T add = valid && lane_adds<kMode>(ev.code[k]) ? ev.gain[k] * s_add[cell] : T(0);
    s_add[cell] = add;
    const C e = ev.e[k];
    if constexpr (kMoments) mom = scan::add(scan::mul(e, mom), scan::mul(scan::gap_times(ev.gap[k], e), val));
    val = scan::add_real(scan::mul(e, val), add);
    s_left[cell] = val;
    if constexpr (kMoments) s_left_mom[cell] = mom;
  }
  val = scan::zero_state<C, T>();
  mom = val;
  if (valid && a.totals_desc) {
    const A carry = static_cast<const A*>(a.totals_desc)[slot];
    val = carry.val;
    mom = carry.mom;
  }
  T sum_dphi = 0, sum_dalpha = 0, sum_domega = 0;
  for (int k = kLaneChunk - 1; k >= 0; --k) {
    const int cell = k * kLanePitch + lane;
    const C e = scan::conj(ev.e[k + 1]);
    if constexpr (kMoments) mom = scan::add(scan::mul(e, mom), scan::mul(scan::gap_times(ev.gap[k + 1], e), val));
    val = scan::add_real(scan::mul(e, val), s_add[cell]);
    const std::uint32_t code = ev.code[k];
    T first_sum = 0, second_sum = 0;
    if (valid && lane_reads<kMode>(code)) {
      const std::int64_t at = lane_index(code) * a.batch + row;
      const C left = s_left[cell];
      const C both = scan::add(left, val);
      const T kernel_sum = twist_re(both, r.cos_phi, r.sin_phi);
      const T gain = ev.gain[k];
      if constexpr (kMode == Mode::forward) {
        const T start = a.accumulate ? a.rows_out[at] : (a.bias ? a.bias[lane_index(code)] : T(0));
        a.rows_out[at] = start + gain * kernel_sum;
      } else if constexpr (kMode == Mode::target_grad) {
        const T gval = s_second[cell];
        const T w = gain * gval;
        second_sum = gval * kernel_sum;  // du
        const C slope = scan::add(scan::mul(r.neg_lam, left), scan::mul(r.conj_lam, val));
        first_sum = w * twist_re(slope, r.cos_phi, r.sin_phi);  // dt
        sum_dphi -= w * twist_im(both, r.cos_phi, r.sin_phi);
        if constexpr (kMoments) {
          const C left_mom = s_left_mom[cell];
          sum_dalpha -= w * twist_re(scan::add(left_mom, mom), r.cos_phi, r.sin_phi);
          sum_domega -= w * twist_im(scan::add(left_mom, scan::scale(T(-1), mom)), r.cos_phi, r.sin_phi);
        }
      } else {
        // Q = left (ascending, conj(lam)), P = val (descending, lam).
        const T xval = s_second[cell];
        if (a.rows_out) a.rows_out[at] = (a.accumulate ? a.rows_out[at] : T(0)) + gain * kernel_sum;
        second_sum = xval * kernel_sum;  // dv
        const C slope = scan::add(scan::mul(r.neg_lam, val), scan::mul(r.conj_lam, left));
        first_sum = -gain * xval * twist_re(slope, r.cos_phi, r.sin_phi);  // ds
      }
    }
    if constexpr (kMode != Mode::forward) {
      s_add[cell] = first_sum;
      s_second[cell] = second_sum;
    }
  }
  if constexpr (kMode != Mode::forward) {
    __syncwarp();
    // Per-event sums over this warp's 32 rows; row groups are added later.
    for (int k = lane; k < kLaneChunk; k += 32) {
      const std::uint32_t code = ev.code[k];
      if (!lane_reads<kMode>(code)) continue;
      T first = 0, second = 0;
      for (int i = 0; i < 32; ++i) {
        first += s_add[k * kLanePitch + i];
        second += s_second[k * kLanePitch + i];
      }
      const std::int64_t at = group * a.acc_stride + (code & ~kLaplexTargetBit);
      if (a.acc1) a.acc1[at] = a.add_to_sums ? a.acc1[at] + first : first;
      if (a.acc2) a.acc2[at] = a.add_to_sums ? a.acc2[at] + second : second;
    }
    if constexpr (kMode == Mode::target_grad) {
      if (a.scalars) {
        T partial[3] = {sum_dphi, sum_dalpha, sum_domega};
        for (int k = 0; k < 3; ++k)
          for (int d = 16; d > 0; d >>= 1) partial[k] += __shfl_down_sync(0xffffffffu, partial[k], d);
        if (lane == 0)
          for (int k = 0; k < 3; ++k) {
            T& out = a.scalars[task * 3 + k];
            out = a.add_to_scalars ? out + partial[k] : partial[k];
          }
      }
    }
  }
}

// out (cols, rows) = in (rows, cols), through 32 x 32 shared tiles; row
// tiles are strided over gridDim.y (which is capped at 65535).
template <class T>
__global__ void transpose_kernel(const T* in, std::int64_t rows, std::int64_t cols, T* out) {
  __shared__ T tile[32][33];
  const std::int64_t col0 = static_cast<std::int64_t>(blockIdx.x) * 32;
  for (std::int64_t row0 = static_cast<std::int64_t>(blockIdx.y) * 32; row0 < rows;
       row0 += static_cast<std::int64_t>(gridDim.y) * 32) {
    for (int i = threadIdx.y; i < 32; i += blockDim.y) {
      const std::int64_t row = row0 + i, col = col0 + threadIdx.x;
      if (row < rows && col < cols) tile[i][threadIdx.x] = in[row * cols + col];
    }
    __syncthreads();
    for (int i = threadIdx.y; i < 32; i += blockDim.y) {
      const std::int64_t col = col0 + i, row = row0 + threadIdx.x;
      if (row < rows && col < cols) out[col * rows + row] = tile[threadIdx.x][i];
    }
    __syncthreads();
  }
}

}  // namespace laplex::cuda
