// The one-head backward of laplex-math.md section 3 from a saved forward
// (LaplexSaved): per batch chunk, the ascending sweep carries L (lam), its
// moment L1 and Q (conj lam); the descending one R (conj lam), R1 and P
// (lam). Sources feed L/R with v x, targets feed P/Q with u g.
//
// The forward's first n event rows hold x in anchor order (its input rows
// in event order), so the only random accesses left are a read of each
// target's g row (ascending) and a streaming write of each source's dx row
// (descending, no read of the line first): the recomputing path also
// gathers every x row and dirties it with the dx update, reads the dx rows
// back, and loads x into lanes first. The ascending sweep writes one row
// per event, in order: at a target, its g to the next of m rows in target
// order; at a source, the Q part of dx to the next of n rows in source
// order. So the descending sweep reads one row per event (a target's g, a
// source's saved x) and, at a source, its Q row back; it adds the P part
// and writes the dx row once. The saved rows are only read, and only the
// n of x: a sweep over rows of both kinds in event order (with g written
// over the forward's output rows) streamed the cache past m rows it did
// not use, and the backward took 1.2x as long when g went to rows of its
// own.
//
// Branch-free as the other scans (targets and sources interleave at random):
// a row pointer is picked by mask; a target streams its (unused) dx value
// over its own compact g row, so every event writes one whole row.
//
// The sweeps run on chunks of W lanes; a forward that ran on narrower
// chunks of F lanes (lanes::saved_backward_width) left each saved row of a
// backward chunk as W / F pieces, one in each of as many consecutive
// forward chunks' rows. So a row read is a pointer and the step between its
// pieces: a forward chunk's rows for a saved row, F for the backward's own
// rows. Every row written is the backward's own: whole lines, streamed (a
// streaming store of part of a line, as writing pieces would be, costs
// about a line's read and write: the backward took 2x as long that way).
// dt, ds, du and dv need per-event batch sums; dalpha and domega only sums
// over all targets, so the moments are summed per lane and not reduced per
// event.
#include <omp.h>

#include <cstdint>
#include <string>
#include <type_traits>

#include "layers/laplex/laplex_backward_parts.h"

namespace laplex::cpu::backward {

namespace {

using lanes::Decays;
using lanes::HeadConstants;

// Events between a prefetch and its use: a random row costs a DRAM latency.
constexpr std::int64_t kPrefetchDistance = 32;

// Events whose moment products are summed per lane in T before they go to
// the double totals: float sums of a few hundred terms lose nothing that the
// per-event sums of the other path kept.
constexpr std::int64_t kMomentBlock = 256;

// What one sweep of one chunk reads and writes.
template <class T>
struct SavedSweep {
  const std::uint32_t* code;
  const T* gain;            // null without gains
  const Decays<T>* decays;  // re (and im): the moment factors come from gap
  const T* gap;
  std::int64_t events;
  const T* saved;           // the forward's input rows in event order: x by source rank
  std::int64_t saved_step;  // values between the pieces of a saved row
  const T* g_rows;          // g in index order (ascending only)
  T* g_compact;             // m + 1 rows: g by target rank
  T* q_rows;                // n + 1 rows: the Q part of dx by source rank; the last one zero
  std::int64_t sources, targets;
  T* dx_rows;  // n rows; null without dx
  T cos_phi, sin_phi;
};

// The states of one sweep: s = L or R (sources' v x), m = its moment, q = Q
// or P (targets' u g). `sign` is the imaginary sign of the decay of s and m
// (q takes the other one).
template <class T, int W, bool Phased, bool Moments>
struct States {
  alignas(64) T sr[W] = {}, si[W] = {}, mr[W] = {}, mi[W] = {}, qr[W] = {}, qi[W] = {};

  // The moment's factor gap e (an underflowed e gives 0, never 0 * inf).
  [[gnu::always_inline]] void decay(const Decays<T>& d, const T* gap, std::int64_t k, T sign) {
    const T ar = d.re[k];
    if constexpr (Phased) {
      const T ai = sign * d.im[k];
      if constexpr (Moments) {
        const T dr = ar == T(0) ? T(0) : gap[k] * ar;
        const T di = ai == T(0) ? T(0) : gap[k] * ai;
#pragma omp simd
        for (int l = 0; l < W; ++l) {
          const T r = ar * mr[l] - ai * mi[l] + dr * sr[l] - di * si[l];
          mi[l] = ar * mi[l] + ai * mr[l] + dr * si[l] + di * sr[l];
          mr[l] = r;
        }
      }
#pragma omp simd
      for (int l = 0; l < W; ++l) {
        const T r = ar * sr[l] - ai * si[l];
        si[l] = ar * si[l] + ai * sr[l];
        sr[l] = r;
        const T q = ar * qr[l] + ai * qi[l];
        qi[l] = ar * qi[l] - ai * qr[l];
        qr[l] = q;
      }
    } else {
      if constexpr (Moments) {
        const T dr = ar == T(0) ? T(0) : gap[k] * ar;
#pragma omp simd
        for (int l = 0; l < W; ++l) mr[l] = ar * mr[l] + dr * sr[l];
      }
#pragma omp simd
      for (int l = 0; l < W; ++l) {
        sr[l] *= ar;
        qr[l] *= ar;
      }
    }
  }
};

using lanes::pick_row;

[[gnu::always_inline]] inline std::int64_t pick_step(std::uintptr_t mask, std::int64_t a,
                                                     std::int64_t b) {
  return static_cast<std::int64_t>((static_cast<std::uintptr_t>(a) & mask) |
                                   (static_cast<std::uintptr_t>(b) & ~mask));
}

// The sum of W values: vertical adds, then one horizontal reduction of a
// vector. Without -ffast-math a simd reduction adds the lanes in order, a
// chain of W dependent scalar adds per event.
template <class T, int W>
[[gnu::always_inline]] inline T sum_lanes(const T* p) {
#if defined(__AVX2__)
  if constexpr (std::is_same_v<T, float> && W % 8 == 0) {
    __m256 a = _mm256_load_ps(p);
    for (int l = 8; l < W; l += 8) a = _mm256_add_ps(a, _mm256_load_ps(p + l));
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    return _mm_cvtss_f32(_mm_add_ss(s, _mm_movehdup_ps(s)));
  } else if constexpr (std::is_same_v<T, double> && W % 4 == 0) {
    __m256d a = _mm256_load_pd(p);
    for (int l = 4; l < W; l += 4) a = _mm256_add_pd(a, _mm256_load_pd(p + l));
    const __m128d s = _mm_add_pd(_mm256_castpd256_pd128(a), _mm256_extractf128_pd(a, 1));
    return _mm_cvtsd_f64(_mm_add_sd(s, _mm_unpackhi_pd(s, s)));
  }
#endif
  T sum = 0;
  for (int l = 0; l < W; ++l) sum += p[l];
  return sum;
}

// One sweep over a chunk's events; adds its per-event sums to `sums` and its
// moment totals to `moment_re`, `moment_im`.
template <class T, int W, int F, bool Phased, bool Moments, bool Gains, bool Ascending>
void sweep(const SavedSweep<T>& in, EventSums<T>& sums, double& moment_re, double& moment_im) {
  States<T, W, Phased, Moments> st;
  alignas(64) T acc_re[W] = {}, acc_im[W] = {};  // moment products of this block
  const T sign = Ascending ? T(1) : T(-1);
  T* out_dot_re = sums.dot_re;
  T* out_dot_im = Phased ? sums.dot_im : nullptr;
  const bool dx = in.dx_rows != nullptr;

  auto flush = [&] {
    for (int l = 0; l < W; ++l) {
      moment_re += acc_re[l];
      acc_re[l] = T(0);
      if constexpr (Phased) {
        moment_im += acc_im[l];
        acc_im[l] = T(0);
      }
    }
  };

  // Sources and targets before the event in ascending order: the compact
  // rows of the next ones ascending, of this one descending. A target
  // descending reads the Q row of the source visited last (cached, or the
  // zero row past the others); what it writes is discarded.
  std::int64_t source_rank = Ascending ? 0 : in.sources;
  std::int64_t target_rank = Ascending ? 0 : in.targets;

  auto event = [&](std::int64_t k) {
    const std::uint32_t code = in.code[k];
    const std::uint32_t index = code & ~kLaplexTargetBit;
    const std::uint32_t target = code >> 31;
    const std::uintptr_t mask = 0 - static_cast<std::uintptr_t>(target);  // ones at a target
    if constexpr (!Ascending) {
      source_rank -= 1 - target;
      target_rank -= target;
    }
    const T* saved_row = in.saved + source_rank * F;  // its first piece
    const T* q_row = in.q_rows + source_rank * W;
    T* g_row = in.g_compact + target_rank * W;
    // A source's x; a target's g, gathered ascending and in order
    // descending.
    const T* value =
        pick_row<const T>(mask, Ascending ? in.g_rows + static_cast<std::int64_t>(index) * W : g_row,
                          saved_row);
    const std::int64_t value_step = pick_step(mask, F, in.saved_step);
    const T pick = static_cast<T>(target);
    const T gain = Gains ? in.gain[k] : T(1);
    const T a = gain * (T(1) - pick), b = gain * pick;
    // One pass over the lanes: the dot with the state this event reads (s
    // at a target, q at a source), the moment products, the row it writes
    // (ascending: g at a target, the Q part of dx at a source; descending:
    // the Q part plus the P part), then the state updates. Loading each
    // state once per event matters: with three states of W values they
    // live on the stack, not in registers.
    const T cr = a * in.cos_phi, ci = a * in.sin_phi;
    alignas(64) T pr[W], pi[W], row[W];
    for (int piece = 0; piece < W / F; ++piece) {
      const T* value_piece = value + piece * value_step;
#pragma omp simd
      for (int j = 0; j < F; ++j) {
        const int l = piece * F + j;
        const T v = value_piece[j], sr = st.sr[l], qr = st.qr[l];
        pr[l] = v * (qr + pick * (sr - qr));
        T c = cr * qr;  // the source's dx part from q (a source leaves q as it is)
        if constexpr (Phased) {
          const T si = st.si[l], qi = st.qi[l];
          pi[l] = v * (qi + pick * (si - qi));
          c -= ci * qi;
        }
        if constexpr (Moments) {
          acc_re[l] += (b * v) * st.mr[l];
          if constexpr (Phased) acc_im[l] += (b * v) * st.mi[l];
        }
        row[l] = (Ascending ? pick * v : q_row[l]) + c;
        st.sr[l] = sr + a * v;
        st.qr[l] = qr + b * v;
      }
    }
    out_dot_re[k] += sum_lanes<T, W>(pr);
    if constexpr (Phased) out_dot_im[k] += sum_lanes<T, W>(pi);
    if constexpr (Ascending) {
      lanes::stream_row<T, W>(const_cast<T*>(pick_row<const T>(mask, g_row, q_row)), row);
      source_rank += 1 - target;
      target_rank += target;
    } else if (dx) {
      // To the source's dx row; a target writes over its own compact g
      // row, read for the last time above. Streaming stores: a plain store
      // first reads the random line it overwrites.
      T* out = const_cast<T*>(
          pick_row(mask, g_row, in.dx_rows + static_cast<std::int64_t>(index) * W));
      lanes::stream_row<T, W>(out, row);
    }
  };

  // Always inlined: see lanes::prefetch_row.
  auto prefetch = [&](std::int64_t k) __attribute__((always_inline)) {
    const std::uint32_t code = in.code[k];
    const std::uint32_t target = code >> 31;
    const std::uint32_t index = code & ~kLaplexTargetBit;
    const std::uint32_t mask = 0u - target;  // ones at a target
    if constexpr (Ascending)
      lanes::prefetch_row<T, W, false>(in.g_rows + static_cast<std::int64_t>(index & mask) * W);
  };

  const std::int64_t events = in.events;
  const Decays<T>& d = *in.decays;
  if constexpr (Ascending) {
    for (std::int64_t k = 0; k < events; ++k) {
      if (k + kPrefetchDistance < events) prefetch(k + kPrefetchDistance);
      st.decay(d, in.gap, k, sign);
      event(k);
      if (Moments && k % kMomentBlock == kMomentBlock - 1) flush();
    }
    lanes::stream_fence();
  } else {
    for (std::int64_t k = events - 1; k >= 0; --k) {
      if (k >= kPrefetchDistance) prefetch(k - kPrefetchDistance);
      event(k);
      st.decay(d, in.gap, k, sign);
      if (Moments && k % kMomentBlock == 0) flush();
    }
    lanes::stream_fence();
  }
  if constexpr (Moments) flush();
}

template <class T, int W, int F, bool Phased, bool Moments, bool Gains>
void run(const LaplexPlan<T>& plan, const LaplexShape& shape, const LaplexParamPtrs<T>& p,
         const Decays<T>& d, const std::vector<T>& gains, const Needs& need,
         LaplexSaved<T>& saved, const T* gy, T* dx, std::vector<Partial<T>>& partials,
         lanes::ThreadScratch& scratch) {
  const std::int64_t batch = shape.batch, m = shape.m, n = shape.n, events = plan.events();
  const std::int64_t chunks = (batch + W - 1) / W;
  const std::size_t bytes = lanes::scratch_bytes<T, W>(m, n);
  // Values in one forward chunk's rows: a saved row's pieces are that far
  // apart, and a backward chunk spans W / F forward chunks.
  const std::int64_t forward_chunk_values = lanes::rows_bytes<T, F>(events) / sizeof(T);
  T* saved_rows = reinterpret_cast<T*>(saved.rows.get());
  const HeadConstants<T> c = lanes::head_constants(shape, p, 0);
  const bool want_dx = need.dx && dx != nullptr;
#pragma omp parallel if (chunks > 1 && (m + n) * batch > lanes::kParallelWork)
  {
    const int thread = omp_get_thread_num();
    Partial<T>& part = partials[thread];
    part.allocate(scratch.get<T>(thread, Partial<T>::bytes(events), LaplexScratchPool::kSums),
                  events, Phased, false);
    // g rows, dx rows, the compact Q rows and then the compact g rows
    // (where the forward keeps its event rows, with room for m + 2n + 2).
    T* lanes_base = scratch.get<T>(thread, bytes);
    T* g_rows = lanes_base;
    T* dx_rows = lanes_base + lanes::rows_bytes<T, W>(m) / sizeof(T);
    T* q_rows = lanes_base + lanes::event_rows_offset<T, W>(m, n) / sizeof(T);
    T* g_compact = q_rows + (n + 1) * W;
    // The row a target past every source reads descending (times zero):
    // zero, so nothing uninitialised is read.
    std::fill(q_rows + n * W, q_rows + (n + 1) * W, T(0));
#pragma omp for schedule(static) nowait
    for (std::int64_t chunk = 0; chunk < chunks; ++chunk) {
      const std::int64_t b0 = chunk * W;
      lanes::load<T, W>(gy, batch, m, b0, g_rows);
      const SavedSweep<T> in{plan.code.data(),
                             Gains ? gains.data() : nullptr,
                             &d,
                             plan.gap.data(),
                             events,
                             saved_rows + chunk * (W / F) * forward_chunk_values,
                             forward_chunk_values,
                             g_rows,
                             g_compact,
                             q_rows,
                             n,
                             m,
                             want_dx ? dx_rows : nullptr,
                             c.cos_phi,
                             c.sin_phi};
      sweep<T, W, F, Phased, Moments, Gains, true>(in, part.up, part.moment_up_re,
                                                   part.moment_up_im);
      sweep<T, W, F, Phased, Moments, Gains, false>(in, part.down, part.moment_down_re,
                                                    part.moment_down_im);
      if (want_dx) lanes::store<T, W>(dx_rows, batch, n, b0, dx);
    }
  }
}

template <class T, bool Phased, bool Moments, bool Gains>
void dispatch_width(const LaplexPlan<T>& plan, const LaplexShape& shape,
                    const LaplexParamPtrs<T>& p, const Decays<T>& d, const std::vector<T>& gains,
                    const Needs& need, LaplexSaved<T>& saved, const T* gy, T* dx,
                    std::vector<Partial<T>>& partials, lanes::ThreadScratch& scratch) {
  // The forward's chunks and the backward's (lanes::saved_backward_width).
  auto go = [&](auto backward_lanes, auto forward_lanes) {
    run<T, decltype(backward_lanes)::value, decltype(forward_lanes)::value, Phased, Moments,
        Gains>(plan, shape, p, d, gains, need, saved, gy, dx, partials, scratch);
  };
  using std::integral_constant;
  const int w = saved.backward_width, f = saved.width;
  if (w == 32 && f == 8) return go(integral_constant<int, 32>{}, integral_constant<int, 8>{});
  if (w == 16 && f == 8) return go(integral_constant<int, 16>{}, integral_constant<int, 8>{});
  if (w == 32 && f == 16) return go(integral_constant<int, 32>{}, integral_constant<int, 16>{});
  check(w == f, "laplex: no backward for saved rows of " + std::to_string(f) +
                    "-lane chunks read as " + std::to_string(w) + " lanes");
  switch (f) {
    case 32:
      return go(integral_constant<int, 32>{}, integral_constant<int, 32>{});
    case 16:
      return go(integral_constant<int, 16>{}, integral_constant<int, 16>{});
    case 8:
      return go(integral_constant<int, 8>{}, integral_constant<int, 8>{});
    case 4:
      return go(integral_constant<int, 4>{}, integral_constant<int, 4>{});
    default:
      return go(integral_constant<int, 1>{}, integral_constant<int, 1>{});
  }
}

}  // namespace

template <class T>
void sweeps_from_saved(const LaplexPlan<T>& plan, const LaplexShape& shape,
                       const LaplexParamPtrs<T>& p, const Decays<T>& d, const std::vector<T>& gains,
                       const Needs& need, LaplexSaved<T>& saved, const T* gy, T* dx,
                       std::vector<Partial<T>>& partials, lanes::ThreadScratch& scratch) {
  auto go = [&](auto phased, auto moments, auto with_gains) {
    dispatch_width<T, decltype(phased)::value, decltype(moments)::value,
                   decltype(with_gains)::value>(plan, shape, p, d, gains, need, saved, gy, dx,
                                                partials, scratch);
  };
  with_sweep_flags(shape.phased, need.moments(), p.has_gains(), go);
}

template void sweeps_from_saved(const LaplexPlan<float>&, const LaplexShape&,
                                const LaplexParamPtrs<float>&, const Decays<float>&,
                                const std::vector<float>&, const Needs&, LaplexSaved<float>&,
                                const float*, float*, std::vector<Partial<float>>&,
                                lanes::ThreadScratch&);
template void sweeps_from_saved(const LaplexPlan<double>&, const LaplexShape&,
                                const LaplexParamPtrs<double>&, const Decays<double>&,
                                const std::vector<double>&, const Needs&,
                                LaplexSaved<double>&, const double*, double*,
                                std::vector<Partial<double>>&, lanes::ThreadScratch&);

}  // namespace laplex::cpu::backward
