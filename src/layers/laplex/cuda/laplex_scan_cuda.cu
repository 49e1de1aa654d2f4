// The CUDA LAPLEX apply and gradients (laplex-math.md sections 2 and 3) as
// chunked parallel scans over a plan's sorted events.
//
// One scan pass reads the events of one head in chunks of kChunk. A block
// owns a chunk and a group of batch rows; for each row it runs the
// ascending and the descending recurrence at once. Three launches:
//   1. totals:  every (row, chunk) total of both directions;
//   2. carries: per row, the exclusive scan of the totals (ascending) and
//               of the reversed totals (descending), in place;
//   3. apply:   every chunk rescanned from its carries; at each reader event
//               the mode's epilogue turns (L, R) [and first moments] into
//               outputs, per-event sums over the batch and per-head scalars.
// One chunk needs no launch 1 or 2. Events, the batch values the scan adds
// and the outputs move through shared memory so global reads and writes are
// coalesced whenever the anchors are (nearly) in index order.
//
// Modes (who adds, who reads; rates of the ascending / descending scans):
//   forward      sources add v x, targets read L, R        lam / conj(lam)
//   target grad  sources add v x, targets read L, R, L1, R1 lam / conj(lam)
//   source grad  targets add u g, sources read Q, P        conj(lam) / lam
// The descending decay of an event is the conjugate of the ascending decay
// of the next gap, so each gap's exp (and sincos) is evaluated once.
#include <algorithm>
#include <vector>

#include "core/cuda/cuda_context.h"
#include "core/error.h"
#include "layers/laplex/cuda/laplex_carries.cuh"
#include "layers/laplex/cuda/laplex_cuda.h"
#include "layers/laplex/cuda/laplex_scan.cuh"
#include "layers/laplex/cuda/laplex_scan_args.cuh"
#include "layers/laplex/cuda/laplex_lane_scan.cuh"
#include "layers/laplex/cuda/laplex_lane_slices.h"
#include "layers/laplex/laplex_plan.h"

namespace laplex::cuda {

namespace {

using scan::Agg;
using scan::Complex;
using scan::KeyOf;

template <class T, class C, bool kMoments, Mode kMode, bool kTotalsOnly>
__global__ void __launch_bounds__(kThreads) scan_chunks_kernel(ScanArgs<T> a) {
  using A = Agg<T, C, kMoments>;
  constexpr int I = kItems<T>;
  constexpr int CH = kChunk<T>;
  constexpr bool kReadsValue = !kTotalsOnly && kMode != Mode::forward;
  __shared__ KeyOf<T> s_key[CH + 2];  // the event before the chunk, the chunk, the one after
  __shared__ std::uint32_t s_code[CH];
  __shared__ T s_add[CH];
  __shared__ T s_read[kReadsValue ? CH : 1];
  __shared__ T s_out[kTotalsOnly ? 1 : CH];
  __shared__ A s_scan[33];
  __shared__ T s_sum[kThreads / 32];

  const int tid = threadIdx.x;
  const std::int64_t base = static_cast<std::int64_t>(blockIdx.x) * CH;
  for (int e = tid; e < CH + 2; e += kThreads) {
    const std::int64_t k = std::min(std::max(base + e - 1, std::int64_t{0}), a.events - 1);
    s_key[e] = a.keys[k];
  }
  for (int e = tid; e < CH; e += kThreads)
    s_code[e] = base + e < a.events ? a.codes[base + e] : kNoEvent;
  __syncthreads();

  const T alpha = softplus(a.rho[a.head]);
  const T omega = a.omega ? a.omega[a.head] : T(0);
  const T phi = a.phi ? a.phi[a.head] : T(0);
  T cos_phi = 1, sin_phi = 0;
  if constexpr (scan::kIsComplex<C>) {
    cos_phi = cos(phi);
    sin_phi = sin(phi);
  }
  // -lam and conj(lam), lam = alpha - i omega.
  C neg_lam, conj_lam;
  if constexpr (scan::kIsComplex<C>) {
    neg_lam = C{-alpha, omega};
    conj_lam = C{alpha, omega};
  } else {
    neg_lam = -alpha;
    conj_lam = alpha;
  }
  const T w_asc = kMode == Mode::source_grad ? -omega : omega;

  // Row-independent parts of this thread's events: decays of the gaps before
  // each item (ascending) and after the last one, codes and reader gains.
  const int first = tid * I;
  C e_asc[I + 1];
  T gap[I + 1];
  for (int i = 0; i <= I; ++i) {
    gap[i] = scan::from_key(s_key[first + i + 1]) - scan::from_key(s_key[first + i]);
    e_asc[i] = scan::decay<C>(alpha, w_asc, gap[i]);
  }
  std::uint32_t code[I];
  T gain[I];
  for (int i = 0; i < I; ++i) {
    code[i] = s_code[first + i];
    gain[i] = T(1);
    if (!kTotalsOnly && code[i] != kNoEvent) {
      const bool target = code[i] & kLaplexTargetBit;
      const std::uint32_t index = code[i] & ~kLaplexTargetBit;
      if (kMode == Mode::source_grad ? !target : target) {
        const T* reader_gain = kMode == Mode::source_grad ? a.v : a.u;
        if (reader_gain) gain[i] = reader_gain[index];
      }
    }
  }
  auto is_reader = [&](int i) {
    if (code[i] == kNoEvent) return false;
    const bool target = code[i] & kLaplexTargetBit;
    return kMode == Mode::source_grad ? !target : target;
  };
  A step_asc = scan::identity<T, C, kMoments>();
  A step_desc = scan::identity<T, C, kMoments>();
  for (int i = 0; i < I; ++i) {
    step_asc.e = scan::mul(step_asc.e, e_asc[i]);
    step_asc.gap += gap[i];
    step_desc.e = scan::mul(step_desc.e, scan::conj(e_asc[i + 1]));
    step_desc.gap += gap[i + 1];
  }

  T acc1[I], acc2[I];
  for (int i = 0; i < I; ++i) acc1[i] = acc2[i] = T(0);
  T sum_dphi = 0, sum_dalpha = 0, sum_domega = 0;

  // The events this thread stages (striped: e = tid + j * kThreads) and
  // the gains of those that add.
  std::uint32_t striped_code[I];
  T striped_gain[I];
  for (int j = 0; j < I; ++j) {
    const std::uint32_t c = s_code[tid + j * kThreads];
    striped_code[j] = c;
    striped_gain[j] = T(1);
    if (c == kNoEvent) continue;
    const bool target = c & kLaplexTargetBit;
    const T* adder_gain = kMode == Mode::source_grad ? a.u : a.v;
    if ((kMode == Mode::source_grad) == target && adder_gain)
      striped_gain[j] = adder_gain[c & ~kLaplexTargetBit];
  }

  const std::int64_t row_begin = static_cast<std::int64_t>(blockIdx.y) * a.rows_per_group;
  const std::int64_t row_end = std::min(a.batch, row_begin + a.rows_per_group);
  for (std::int64_t row = row_begin; row < row_end; ++row) {
    // All of this row's global reads are issued before any shared store,
    // so they are in flight together.
    T stage_add[I], stage_read[I];
#pragma unroll
    for (int j = 0; j < I; ++j) {
      const std::uint32_t c = striped_code[j];
      stage_add[j] = 0;
      stage_read[j] = 0;
      if (c == kNoEvent) continue;
      const bool target = c & kLaplexTargetBit;
      const std::int64_t index = c & ~kLaplexTargetBit;
      if constexpr (kMode == Mode::source_grad) {
        if (target)
          stage_add[j] = striped_gain[j] * a.g[row * a.m + index];
        else if (kReadsValue)
          stage_read[j] = a.x[row * a.n + index];
      } else {
        if (!target)
          stage_add[j] = striped_gain[j] * a.x[row * a.n + index];
        else if (kReadsValue)
          stage_read[j] = a.g[row * a.m + index];
      }
    }
#pragma unroll
    for (int j = 0; j < I; ++j) {
      s_add[tid + j * kThreads] = stage_add[j];
      if constexpr (kReadsValue) s_read[tid + j * kThreads] = stage_read[j];
    }
    __syncthreads();
    // Into registers before the block scans: after their last barrier, other
    // threads may already stage the next row.
    T add[I], read[I];
    for (int i = 0; i < I; ++i) add[i] = s_add[first + i];
    if constexpr (kReadsValue)
      for (int i = 0; i < I; ++i) read[i] = s_read[first + i];

    // This thread's totals in both directions, from a zero state.
    A mine_asc = step_asc, mine_desc = step_desc;
    {
      C val = scan::zero_state<C, T>(), mom = scan::zero_state<C, T>();
      for (int i = 0; i < I; ++i) {
        if constexpr (kMoments) mom = scan::add(scan::mul(e_asc[i], mom), scan::mul(scan::gap_times(gap[i], e_asc[i]), val));
        val = scan::add_real(scan::mul(e_asc[i], val), add[i]);
      }
      mine_asc.val = val;
      mine_asc.mom = mom;
      val = scan::zero_state<C, T>();
      mom = scan::zero_state<C, T>();
      for (int i = I - 1; i >= 0; --i) {
        const C e = scan::conj(e_asc[i + 1]);
        if constexpr (kMoments) mom = scan::add(scan::mul(e, mom), scan::mul(scan::gap_times(gap[i + 1], e), val));
        val = scan::add_real(scan::mul(e, val), add[i]);
      }
      mine_desc.val = val;
      mine_desc.mom = mom;
    }
    A total_asc, total_desc;
    A carry_asc = scan::block_exclusive_scan<false>(mine_asc, s_scan, total_asc);
    A carry_desc = scan::block_exclusive_scan<true>(mine_desc, s_scan, total_desc);
    const std::int64_t slot = row * a.chunks + blockIdx.x;
    if constexpr (kTotalsOnly) {
      if (tid == 0) {
        static_cast<A*>(a.totals_asc)[slot] = total_asc;
        static_cast<A*>(a.totals_desc)[slot] = total_desc;
      }
      continue;
    } else {
      if (a.totals_asc) {
        carry_asc = scan::combine(static_cast<const A*>(a.totals_asc)[slot], carry_asc);
        carry_desc = scan::combine(static_cast<const A*>(a.totals_desc)[slot], carry_desc);
      }
      C left[I], left_moment[I];
      C val = carry_asc.val, mom = carry_asc.mom;
      for (int i = 0; i < I; ++i) {
        if constexpr (kMoments) mom = scan::add(scan::mul(e_asc[i], mom), scan::mul(scan::gap_times(gap[i], e_asc[i]), val));
        val = scan::add_real(scan::mul(e_asc[i], val), add[i]);
        left[i] = val;
        if constexpr (kMoments) left_moment[i] = mom;
      }
      val = carry_desc.val;
      mom = carry_desc.mom;
      for (int i = I - 1; i >= 0; --i) {
        const C e = scan::conj(e_asc[i + 1]);
        if constexpr (kMoments) mom = scan::add(scan::mul(e, mom), scan::mul(scan::gap_times(gap[i + 1], e), val));
        val = scan::add_real(scan::mul(e, val), add[i]);
        if (!is_reader(i)) continue;
        // Ascending state `left`, descending `val` (forward, target grad:
        // L and R; source grad: Q and P).
        const C both = scan::add(left[i], val);
        const T kernel_sum = twist_re(both, cos_phi, sin_phi);
        if constexpr (kMode == Mode::forward) {
          s_out[first + i] = gain[i] * kernel_sum;
        } else if constexpr (kMode == Mode::target_grad) {
          const T w = gain[i] * read[i];
          acc2[i] += read[i] * kernel_sum;  // du
          const C slope = scan::add(scan::mul(neg_lam, left[i]), scan::mul(conj_lam, val));
          acc1[i] += w * twist_re(slope, cos_phi, sin_phi);  // dt
          sum_dphi -= w * twist_im(both, cos_phi, sin_phi);
          if constexpr (kMoments) {
            sum_dalpha -= w * twist_re(scan::add(left_moment[i], mom), cos_phi, sin_phi);
            sum_domega -= w * twist_im(scan::add(left_moment[i], scan::scale(T(-1), mom)), cos_phi, sin_phi);
          }
        } else {
          // Q = left (ascending, conj(lam)), P = val (descending, lam).
          s_out[first + i] = gain[i] * kernel_sum;  // dx
          acc2[i] += read[i] * kernel_sum;          // dv
          const C slope = scan::add(scan::mul(neg_lam, val), scan::mul(conj_lam, left[i]));
          acc1[i] -= gain[i] * read[i] * twist_re(slope, cos_phi, sin_phi);  // ds
        }
      }
      if (kMode != Mode::target_grad && a.rows_out) {
        __syncthreads();
        const std::int64_t width = kMode == Mode::forward ? a.m : a.n;
        for (int e = tid; e < CH; e += kThreads) {
          const std::uint32_t c = s_code[e];
          if (c == kNoEvent) continue;
          const bool target = c & kLaplexTargetBit;
          if (kMode == Mode::forward ? !target : target) continue;
          const std::int64_t index = c & ~kLaplexTargetBit;
          T& out = a.rows_out[row * width + index];
          const T start = a.accumulate ? out : (a.bias ? a.bias[index] : T(0));
          out = start + s_out[e];
        }
      }
    }
  }
  if constexpr (!kTotalsOnly && kMode != Mode::forward) {
    T* outputs[2] = {a.acc1, a.acc2};
    const T* sums[2] = {acc1, acc2};
    for (int k = 0; k < 2; ++k) {
      if (!outputs[k]) continue;
      __syncthreads();
      for (int i = 0; i < I; ++i) s_out[first + i] = sums[k][i];
      __syncthreads();
      T* out = outputs[k] + static_cast<std::int64_t>(blockIdx.y) * a.acc_stride;
      for (int e = tid; e < CH; e += kThreads) {
        const std::uint32_t c = s_code[e];
        if (c == kNoEvent) continue;
        const bool target = c & kLaplexTargetBit;
        if (kMode == Mode::source_grad ? target : !target) continue;
        out[c & ~kLaplexTargetBit] = s_out[e];
      }
    }
    if constexpr (kMode == Mode::target_grad) {
      if (a.scalars) {
        const T partial[3] = {sum_dphi, sum_dalpha, sum_domega};
        const std::int64_t block = static_cast<std::int64_t>(blockIdx.y) * gridDim.x + blockIdx.x;
        for (int k = 0; k < 3; ++k) {
          const T total = block_sum(partial[k], s_sum);
          if (tid == 0) a.scalars[block * 3 + k] = total;
        }
      }
    }
  }
}

// out = sum of the row groups' parts (plus out itself when accumulating).
template <class T>
__global__ void sum_groups_kernel(const T* parts, std::int64_t groups, std::int64_t count, T* out,
                                  bool accumulate) {
  for (std::int64_t k = blockIdx.x * (std::int64_t)blockDim.x + threadIdx.x; k < count;
       k += (std::int64_t)gridDim.x * blockDim.x) {
    T total = 0;
    for (std::int64_t g = 0; g < groups; ++g) total += parts[g * count + k];
    out[k] = accumulate ? out[k] + total : total;
  }
}

// One block: the per-head scalars from the per-block partials, in a fixed
// order (deterministic), then drho = dalpha * sigmoid(rho).
template <class T>
__global__ void __launch_bounds__(kThreads) finish_scalars_kernel(const T* partials, std::int64_t blocks,
                                                                  const T* rho, int head, T* drho,
                                                                  T* domega, T* dphi) {
  __shared__ T s_sum[kThreads / 32];
  T local[3] = {0, 0, 0};
  for (std::int64_t b = threadIdx.x; b < blocks; b += kThreads)
    for (int k = 0; k < 3; ++k) local[k] += partials[b * 3 + k];
  T total[3];
  for (int k = 0; k < 3; ++k) total[k] = block_sum(local[k], s_sum);
  if (threadIdx.x != 0) return;
  if (dphi) dphi[head] = total[0];
  if (drho) drho[head] = total[1] * sigmoid(rho[head]);
  if (domega) domega[head] = total[2];
}

struct Launch {
  bool lanes = false;
  std::int64_t chunks = 0, groups = 1, rows_per_group = 1;
  std::int64_t carries_segment = 0;  // LaplexCudaTuning::carries_segment_chunks
  // Lanes: the rows the chunk totals are allocated for, those of the first
  // (largest) slice, so a short last slice reuses the cached block instead
  // of asking the allocator for a new one beside it (past the memory budget
  // of laplex_lane_slices.h, where a failed cudaMalloc syncs the host).
  std::int64_t totals_rows = 0;
};

// Lanes: chunks of kLaneChunk events times groups of 32 rows.
Launch lane_launch(std::int64_t events, std::int64_t rows) {
  Launch launch;
  launch.lanes = true;
  launch.chunks = (events + kLaneChunk - 1) / kLaneChunk;
  launch.groups = (rows + 31) / 32;
  launch.rows_per_group = 32;
  return launch;
}

// Event-parallel kernels: enough blocks to fill the device; row groups split
// the batch when the events alone give too few chunks.
template <class T>
Launch event_launch(std::int64_t events, std::int64_t batch, int device) {
  Launch launch;
  launch.chunks = (events + kChunk<T> - 1) / kChunk<T>;
  int sms = 0;
  check(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device),
        "cudaDeviceGetAttribute");
  const std::int64_t wanted_blocks = 4 * std::int64_t{sms};
  const std::int64_t rows = std::max<std::int64_t>(batch, 1);
  std::int64_t groups = std::clamp<std::int64_t>(
      (wanted_blocks + launch.chunks - 1) / std::max<std::int64_t>(launch.chunks, 1), 1, rows);
  groups = std::min<std::int64_t>(groups, 65535);
  launch.rows_per_group = (rows + groups - 1) / groups;
  launch.groups = (rows + launch.rows_per_group - 1) / launch.rows_per_group;
  return launch;
}

// The rows one round of scans covers: the whole batch on the caller's
// arrays (event-parallel kernels), or one slice of rows on transposed
// copies (lanes; laplex_lane_slices.h).
struct RowSlice {
  std::int64_t first = 0, rows = 0;
  Launch launch;
};

// slice_rows == 0: one event-parallel round over the batch.
template <class T>
std::vector<RowSlice> row_slices(std::int64_t events, std::int64_t batch, std::int64_t slice_rows,
                                 const LaplexCudaTuning& tuning, int device) {
  std::vector<RowSlice> slices;
  if (slice_rows == 0) {
    slices.push_back(RowSlice{0, batch, event_launch<T>(events, batch, device)});
  } else {
    for (std::int64_t first = 0; first < batch; first += slice_rows) {
      const std::int64_t rows = std::min(slice_rows, batch - first);
      slices.push_back(RowSlice{first, rows, lane_launch(events, rows)});
      slices.back().launch.totals_rows = slice_rows;
    }
  }
  for (RowSlice& slice : slices) slice.launch.carries_segment = tuning.carries_segment_chunks;
  return slices;
}

// The chunk totals of one row of a lane slice: both directions, with the
// largest aggregate any mode of this shape uses (the moments').
template <class T>
std::int64_t lane_totals_row_bytes(std::int64_t events, bool phased) {
  const std::int64_t chunks = (events + kLaneChunk - 1) / kLaneChunk;
  const std::int64_t aggregate =
      phased ? sizeof(Agg<T, Complex<T>, true>) : sizeof(Agg<T, T, true>);
  return 2 * chunks * aggregate;
}

// The forward and the backward of one shape take the same slices (see
// kLaneCopies).
template <class T>
std::int64_t slice_rows_for(const LaplexCudaPlan& plan, const LaplexShape& shape,
                            const LaplexCudaTuning& tuning, int device) {
  // One warp of the largest lane kernel must fit a block's shared memory:
  // float64 phased needs 102 KiB, more than the 99 KiB of sm_86/89 cards
  // (Hopper has 227).
  int optin = 0;
  check(cudaDeviceGetAttribute(&optin, cudaDevAttrMaxSharedMemoryPerBlockOptin, device),
        "cudaDeviceGetAttribute");
  const std::size_t largest = shape.phased
                                  ? lane_apply_warp_bytes<T, Complex<T>, true, Mode::target_grad>()
                                  : lane_apply_warp_bytes<T, T, true, Mode::target_grad>();
  if (largest > static_cast<std::size_t>(optin)) return 0;
  if (tuning.lane_slice_rows > 0)
    return shape.batch < kLaneMinBatch ? 0 : std::min(tuning.lane_slice_rows, shape.batch);
  const std::int64_t budget =
      tuning.lane_copy_budget_bytes > 0
          ? tuning.lane_copy_budget_bytes
          : default_lane_copy_budget(static_cast<std::int64_t>(total_memory(device)));
  return lane_slice_rows(shape.batch, std::max(shape.m, shape.n), sizeof(T),
                         lane_totals_row_bytes<T>(plan.events(), shape.phased), budget);
}

// The lane variant of the three launches; a.x, a.g and a.rows_out are the
// transposed (events' side, B) arrays.
template <class T, class C, bool kMoments, Mode kMode>
void run_lane_scan(ScanArgs<T> a, const Launch& launch, const Device& dev) {
  using A = Agg<T, C, kMoments>;
  cudaStream_t st = stream(dev.index);
  const std::int64_t tasks = launch.chunks * launch.groups;
  Tensor totals;
  if (launch.chunks > 1) {
    const std::int64_t slots = a.batch * launch.chunks;
    const std::int64_t allocated_slots = std::max(launch.totals_rows, a.batch) * launch.chunks;
    totals = Tensor::empty(
        {2 * allocated_slots * static_cast<std::int64_t>(sizeof(A) / sizeof(float))}, DType::f32,
        dev);
    a.totals_asc = totals.raw_data();
    a.totals_desc = static_cast<A*>(a.totals_asc) + slots;
    constexpr int kWarps = 4;
    lane_totals_kernel<T, C, kMoments, kMode>
        <<<static_cast<unsigned>((tasks + kWarps - 1) / kWarps), kWarps * 32,
           kWarps * (sizeof(LaneEvents<T, C>) + sizeof(LaneWeights<T, C>)), st>>>(a, launch.groups,
                                                                                   kWarps);
    check_launch("laplex lane_totals_kernel");
    run_carries<T, C, kMoments>(
        a.totals_asc, a.totals_desc, a.batch, launch.chunks,
        carries_segment_length(a.batch, launch.chunks, launch.carries_segment, dev.index), dev);
  }
  constexpr std::size_t warp_bytes = lane_apply_warp_bytes<T, C, kMoments, kMode>();
  // Up to 200 KiB of a Hopper multiprocessor's 227; other GPUs opt in to less.
  int optin = 0;
  check(cudaDeviceGetAttribute(&optin, cudaDevAttrMaxSharedMemoryPerBlockOptin, dev.index),
        "cudaDeviceGetAttribute");
  const std::size_t usable = std::min<std::size_t>(200 << 10, static_cast<std::size_t>(optin));
  const int warps = static_cast<int>(std::clamp<std::size_t>(usable / warp_bytes, 1, 4));
  const std::size_t bytes = warps * warp_bytes;
  check(cudaFuncSetAttribute(lane_apply_kernel<T, C, kMoments, kMode>,
                             cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(bytes)),
        "laplex: shared memory of lane_apply_kernel");
  lane_apply_kernel<T, C, kMoments, kMode>
      <<<static_cast<unsigned>((tasks + warps - 1) / warps), warps * 32, bytes, st>>>(
          a, launch.groups, warps);
  check_launch("laplex lane_apply_kernel");
}

// The three launches of one scan pass; `a` carries everything but the
// chunk totals, which live here.
template <class T, class C, bool kMoments, Mode kMode>
void run_scan(ScanArgs<T> a, const Launch& launch, const Device& dev) {
  using A = Agg<T, C, kMoments>;
  static_assert(sizeof(A) % sizeof(float) == 0);
  cudaStream_t st = stream(dev.index);
  a.chunks = launch.chunks;
  a.rows_per_group = launch.rows_per_group;
  if (launch.lanes) {
    run_lane_scan<T, C, kMoments, kMode>(a, launch, dev);
    return;
  }
  // The event-parallel kernels cover the whole batch in one round.
  if (a.add_to_sums || a.add_to_scalars)
    throw Error("laplex (CUDA): event-parallel scans cannot add to earlier slices' sums");
  const dim3 grid(static_cast<unsigned>(launch.chunks), static_cast<unsigned>(launch.groups));
  Tensor totals;
  if (launch.chunks > 1 && a.batch > 0) {
    const std::int64_t slots = a.batch * launch.chunks;
    totals = Tensor::empty({2 * slots * static_cast<std::int64_t>(sizeof(A) / sizeof(float))},
                           DType::f32, dev);
    a.totals_asc = totals.raw_data();
    a.totals_desc = static_cast<A*>(a.totals_asc) + slots;
    scan_chunks_kernel<T, C, kMoments, kMode, true><<<grid, kThreads, 0, st>>>(a);
    check_launch("laplex scan_chunks_kernel (totals)");
    run_carries<T, C, kMoments>(
        a.totals_asc, a.totals_desc, a.batch, launch.chunks,
        carries_segment_length(a.batch, launch.chunks, launch.carries_segment, dev.index), dev);
  }
  scan_chunks_kernel<T, C, kMoments, kMode, false><<<grid, kThreads, 0, st>>>(a);
  check_launch("laplex scan_chunks_kernel");
}

// Real states for unphased heads, complex ones for phased.
template <class T, bool kMoments, Mode kMode>
void run_scan_for(bool phased, const ScanArgs<T>& a, const Launch& launch, const Device& dev) {
  if (phased)
    run_scan<T, Complex<T>, kMoments, kMode>(a, launch, dev);
  else
    run_scan<T, T, kMoments, kMode>(a, launch, dev);
}

template <class T>
void transpose_into(const T* in, std::int64_t rows, std::int64_t cols, T* out, int device) {
  if (rows == 0 || cols == 0) return;
  const dim3 grid(static_cast<unsigned>((cols + 31) / 32),
                  static_cast<unsigned>(std::min<std::int64_t>((rows + 31) / 32, 65535)));
  transpose_kernel<T><<<grid, dim3(32, 8), 0, stream(device)>>>(in, rows, cols, out);
  check_launch("laplex transpose_kernel");
}

template <class T>
ScanArgs<T> head_args(const LaplexCudaPlan& plan, const LaplexShape& shape,
                      const LaplexParamPtrs<T>& p, std::int64_t h) {
  ScanArgs<T> a;
  const std::int64_t events = plan.events();
  a.keys = reinterpret_cast<const KeyOf<T>*>(plan.keys.raw_data()) + h * events;
  a.codes = reinterpret_cast<const std::uint32_t*>(plan.codes.raw_data()) + h * events;
  a.events = events;
  a.m = shape.m;
  a.n = shape.n;
  a.batch = shape.batch;
  a.head = static_cast<int>(h);
  a.u = p.u ? p.u + h * shape.m : nullptr;
  a.v = p.v ? p.v + h * shape.n : nullptr;
  a.rho = p.rho;
  a.omega = shape.phased ? p.omega : nullptr;
  a.phi = shape.phased ? p.phi : nullptr;
  return a;
}

// An uninitialised (elements) buffer when wanted, else none.
template <class T>
Tensor buffer_if(bool wanted, std::int64_t elements, const Device& dev) {
  return wanted ? Tensor::empty({elements}, dtype_of<T>(), dev) : Tensor();
}

}  // namespace

template <class T>
void laplex_forward_cuda(const LaplexCudaPlan& plan, const LaplexShape& shape,
                         const LaplexParamPtrs<T>& params, const T* x, const T* bias, T* y,
                         int device, const LaplexCudaTuning& tuning) {
  if (plan.events() == 0 || shape.batch == 0 || shape.m == 0) return;
  const Device dev = Device::cuda(device);
  const std::int64_t slice_rows = slice_rows_for<T>(plan, shape, tuning, device);
  // Lanes read a slice of x as (n, rows) and write y's as (m, rows).
  const bool lanes_used = slice_rows > 0;
  const Tensor x_lanes = buffer_if<T>(lanes_used, shape.n * slice_rows, dev);
  const Tensor y_lanes = buffer_if<T>(lanes_used, shape.m * slice_rows, dev);
  const std::vector<RowSlice> slices =
      row_slices<T>(plan.events(), shape.batch, slice_rows, tuning, device);
  for (const RowSlice& slice : slices) {
    const bool lanes = slice.launch.lanes;
    if (lanes)
      transpose_into(x + slice.first * shape.n, slice.rows, shape.n, x_lanes.data<T>(), device);
    for (std::int64_t h = 0; h < shape.heads; ++h) {
      ScanArgs<T> a = head_args(plan, shape, params, h);
      a.batch = slice.rows;
      a.x = lanes ? x_lanes.data<T>() : x;
      a.rows_out = lanes ? y_lanes.data<T>() : y;
      a.bias = h == 0 ? bias : nullptr;
      a.accumulate = h > 0;
      run_scan_for<T, false, Mode::forward>(shape.phased, a, slice.launch, dev);
    }
    if (lanes)
      transpose_into(y_lanes.data<T>(), shape.m, slice.rows, y + slice.first * shape.m, device);
  }
}

// Slices run one after the other, each over every head: the per-event sums
// and per-head partials of the first slice are written, the later slices'
// added (ScanArgs::add_to_sums, add_to_scalars). With row groups, each
// (slice, head) writes its groups' sums into parts shared by the heads, and
// they are added into the head's output right away; the partials are summed
// once all slices are done.
template <class T>
void laplex_backward_cuda(const LaplexCudaPlan& plan, const LaplexShape& shape,
                          const LaplexParamPtrs<T>& params, const T* x, const T* gy,
                          const LaplexGradPtrs<T>& grads, int device,
                          const LaplexCudaTuning& tuning) {
  const Device dev = Device::cuda(device);
  cudaStream_t st = stream(device);
  const bool need_scalars = grads.drho || grads.domega || grads.dphi;
  const bool need_targets = grads.dt || grads.du || need_scalars;
  const bool need_sources = grads.dx || grads.ds || grads.dv;
  const bool moments = grads.drho || (grads.domega && shape.phased);
  if (plan.events() == 0 || shape.batch == 0) {
    // No anchors on one side, or no rows: every gradient is an empty tensor
    // or zero.
    T* const zeroed[4] = {grads.dt, grads.ds, grads.du, grads.dv};
    const std::int64_t counts[4] = {shape.heads * shape.m, shape.heads * shape.n,
                                    shape.heads * shape.m, shape.heads * shape.n};
    for (int k = 0; k < 4; ++k)
      if (zeroed[k] && counts[k] > 0)
        check(cudaMemsetAsync(zeroed[k], 0, counts[k] * sizeof(T), st), "laplex: zero grads");
    T* const scalars[3] = {grads.drho, grads.domega, grads.dphi};
    for (T* out : scalars)
      if (out) check(cudaMemsetAsync(out, 0, shape.heads * sizeof(T), st), "laplex: zero grads");
    return;
  }
  const std::int64_t slice_rows = slice_rows_for<T>(plan, shape, tuning, device);
  const std::vector<RowSlice> slices =
      row_slices<T>(plan.events(), shape.batch, slice_rows, tuning, device);
  // The first slice is the largest: its row groups and tasks bound every
  // slice's.
  const std::int64_t groups = slices.front().launch.groups;
  const std::int64_t tasks = slices.front().launch.chunks * groups;
  // Row groups write their own per-event sums, one head at a time.
  const bool grouped = groups > 1;
  auto parts = [&](T* wanted, std::int64_t width) {
    return buffer_if<T>(grouped && wanted, groups * width, dev);
  };
  const Tensor parts_dt = parts(grads.dt, shape.m), parts_du = parts(grads.du, shape.m);
  const Tensor parts_ds = parts(grads.ds, shape.n), parts_dv = parts(grads.dv, shape.n);
  const Tensor partials = buffer_if<T>(need_scalars, shape.heads * tasks * 3, dev);
  // Lanes read slices of x as (n, rows) and g as (m, rows), and write dx's
  // as (n, rows).
  const bool lanes_used = slice_rows > 0;
  const Tensor x_lanes = buffer_if<T>(lanes_used, shape.n * slice_rows, dev);
  const Tensor g_lanes = buffer_if<T>(lanes_used, shape.m * slice_rows, dev);
  const Tensor dx_lanes = buffer_if<T>(lanes_used && grads.dx, shape.n * slice_rows, dev);
  // Where head h's per-event sums go: the parts when grouped, else the
  // output itself.
  auto sums_of = [&](T* out, const Tensor& shared_parts, std::int64_t width, std::int64_t h) -> T* {
    if (!out) return nullptr;
    return grouped ? shared_parts.data<T>() : out + h * width;
  };
  // The groups of one (slice, head) into the head's output.
  auto add_groups = [&](T* out, const Tensor& shared_parts, std::int64_t width, std::int64_t h,
                        std::int64_t slice_groups, bool accumulate) {
    if (!grouped || !out) return;
    sum_groups_kernel<T><<<grid_for(width), kBlock, 0, st>>>(
        shared_parts.data<T>(), slice_groups, width, out + h * width, accumulate);
    check_launch("laplex sum_groups_kernel");
  };
  for (std::size_t k = 0; k < slices.size(); ++k) {
    const RowSlice& slice = slices[k];
    const bool lanes = slice.launch.lanes;
    if (lanes) {
      transpose_into(x + slice.first * shape.n, slice.rows, shape.n, x_lanes.data<T>(), device);
      transpose_into(gy + slice.first * shape.m, slice.rows, shape.m, g_lanes.data<T>(), device);
    }
    for (std::int64_t h = 0; h < shape.heads; ++h) {
      ScanArgs<T> a = head_args(plan, shape, params, h);
      a.batch = slice.rows;
      a.x = lanes ? x_lanes.data<T>() : x;
      a.g = lanes ? g_lanes.data<T>() : gy;
      a.add_to_sums = k > 0 && !grouped;
      a.add_to_scalars = k > 0;
      if (need_targets) {
        ScanArgs<T> t = a;
        t.acc1 = sums_of(grads.dt, parts_dt, shape.m, h);
        t.acc2 = sums_of(grads.du, parts_du, shape.m, h);
        t.acc_stride = shape.m;
        t.scalars = need_scalars ? partials.data<T>() + h * tasks * 3 : nullptr;
        if (moments)
          run_scan_for<T, true, Mode::target_grad>(shape.phased, t, slice.launch, dev);
        else
          run_scan_for<T, false, Mode::target_grad>(shape.phased, t, slice.launch, dev);
      }
      if (need_sources) {
        ScanArgs<T> s = a;
        s.acc1 = sums_of(grads.ds, parts_ds, shape.n, h);
        s.acc2 = sums_of(grads.dv, parts_dv, shape.n, h);
        s.acc_stride = shape.n;
        s.rows_out = grads.dx ? (lanes ? dx_lanes.data<T>() : grads.dx) : nullptr;
        s.accumulate = h > 0;
        run_scan_for<T, false, Mode::source_grad>(shape.phased, s, slice.launch, dev);
      }
      const std::int64_t slice_groups = slice.launch.groups;
      add_groups(grads.dt, parts_dt, shape.m, h, slice_groups, k > 0);
      add_groups(grads.du, parts_du, shape.m, h, slice_groups, k > 0);
      add_groups(grads.ds, parts_ds, shape.n, h, slice_groups, k > 0);
      add_groups(grads.dv, parts_dv, shape.n, h, slice_groups, k > 0);
    }
    if (lanes && grads.dx)
      transpose_into(dx_lanes.data<T>(), shape.n, slice.rows, grads.dx + slice.first * shape.n,
                     device);
  }
  if (need_scalars)
    for (std::int64_t h = 0; h < shape.heads; ++h) {
      finish_scalars_kernel<T><<<1, kThreads, 0, st>>>(partials.data<T>() + h * tasks * 3, tasks,
                                                       params.rho, static_cast<int>(h),
                                                       grads.drho, grads.domega, grads.dphi);
      check_launch("laplex finish_scalars_kernel");
    }
}

template void laplex_forward_cuda<float>(const LaplexCudaPlan&, const LaplexShape&,
                                         const LaplexParamPtrs<float>&, const float*, const float*,
                                         float*, int, const LaplexCudaTuning&);
template void laplex_forward_cuda<double>(const LaplexCudaPlan&, const LaplexShape&,
                                          const LaplexParamPtrs<double>&, const double*,
                                          const double*, double*, int, const LaplexCudaTuning&);
template void laplex_backward_cuda<float>(const LaplexCudaPlan&, const LaplexShape&,
                                          const LaplexParamPtrs<float>&, const float*, const float*,
                                          const LaplexGradPtrs<float>&, int,
                                          const LaplexCudaTuning&);
template void laplex_backward_cuda<double>(const LaplexCudaPlan&, const LaplexShape&,
                                           const LaplexParamPtrs<double>&, const double*,
                                           const double*, const LaplexGradPtrs<double>&, int,
                                           const LaplexCudaTuning&);

}  // namespace laplex::cuda
