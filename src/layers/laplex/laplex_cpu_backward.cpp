// The backward of laplex-math.md section 3 as two fused sweeps per head and
// batch chunk. The ascending sweep carries L (lam), its first moment L1 and
// Q (conj lam); the descending sweep carries R (conj lam), R1 and P (lam).
// Sources hold x, targets g, in one buffer of index-major rows (W batch
// values a row); sources feed L/R with v x, targets feed P/Q with u g;
// sources add v Re[e^{i phi} (P + Q)] to their dx rows.
//
// The ascending sweep gathers every row once in anchor order and copies it
// to an event-ordered buffer, which the descending sweep then reads
// sequentially. With one head a source's dx row is its own x row: the
// ascending sweep overwrites the row it has just read with the Q part, the
// descending one adds the P part. So the random accesses are one read (and
// at a source one write of the same, cached, row) up, one update of a source
// row down.
//
// The sweeps are branch-free (targets and sources interleave at random):
// each event dots its row with the state its kind reads (L at a target,
// Q at a source; plus L1 at targets) and stores the sums per event; a
// target's dx update reads a zero row and writes a dummy row. The parameter
// gradients come afterwards from those per-event sums, summed over threads
// first, in one pass over the events. This path serves several heads and
// calls without a saved forward; one head with one takes
// laplex_cpu_backward_saved.cpp, which need not gather x.
#include <omp.h>

#include <type_traits>

#include "layers/laplex/laplex_backward_parts.h"
#include "layers/laplex/laplex_cpu.h"
#include "layers/laplex/laplex_lanes.h"

namespace laplex::cpu {

namespace {

using backward::EventSums;
using backward::Needs;
using backward::Partial;
using lanes::Decays;
using lanes::HeadConstants;

// Events between a prefetch and its use: a random row costs a DRAM latency.
constexpr std::int64_t kPrefetchDistance = 32;

// What one sweep of one head over one chunk reads.
template <class T>
struct SweepInput {
  const std::uint32_t* code;
  const T* gain;  // null without gains
  const Decays<T>* decays;
  std::int64_t off, events;
  std::uint32_t n;                     // sources; targets' rows follow theirs
  std::uint32_t zero_row, dummy_row;   // of the dx rows
  T cos_phi, sin_phi;
  bool dx;
};

// One sweep. Ascending: decay (L, L1 with lam; Q with conj lam), then the
// event. Descending: the event, then decay (R, R1 with conj lam; P with lam).
// Ascending reads `lanes` and copies each row to `event_lanes`; descending
// reads `event_lanes`. dx rows: ascending writes the Q part (added to what
// is there when `AddUp`), descending adds the P part.
template <class T, int W, bool Phased, bool Moments, bool Gains, bool Ascending, bool AddUp>
void sweep(const SweepInput<T>& in, const T* lanes, T* event_lanes, T* dx_lanes,
           EventSums<T>& sums) {
  const Decays<T>& d = *in.decays;
  const std::int64_t off = in.off;
  const T* er = d.re.data() + off;
  const T* ei = Phased ? d.im.data() + off : nullptr;
  const T* mr = Moments ? d.moment_re.data() + off : nullptr;
  const T* mi = Phased && Moments ? d.moment_im.data() + off : nullptr;
  T* out_dot_re = sums.dot_re + off;
  T* out_dot_im = Phased ? sums.dot_im + off : nullptr;
  T* out_m_re = Moments ? sums.moment_re + off : nullptr;
  T* out_m_im = Phased && Moments ? sums.moment_im + off : nullptr;
  // States: s = L or R (sources' v x), m = its moment, q = Q or P (targets' u g).
  alignas(64) T sr[W] = {}, si[W] = {}, mr_[W] = {}, mi_[W] = {}, qr[W] = {}, qi[W] = {};
  // The imaginary sign of the decay for s and m; q takes the other one.
  const T sign = Ascending ? T(1) : T(-1);

  auto decay = [&](std::int64_t k) {
    const T ar = er[k];
    if constexpr (Phased) {
      const T ai = sign * ei[k];
      if constexpr (Moments) {
        const T dr = mr[k], di = sign * mi[k];
#pragma omp simd
        for (int l = 0; l < W; ++l) {
          const T r = ar * mr_[l] - ai * mi_[l] + dr * sr[l] - di * si[l];
          mi_[l] = ar * mi_[l] + ai * mr_[l] + dr * si[l] + di * sr[l];
          mr_[l] = r;
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
        const T dr = mr[k];
#pragma omp simd
        for (int l = 0; l < W; ++l) mr_[l] = ar * mr_[l] + dr * sr[l];
      }
#pragma omp simd
      for (int l = 0; l < W; ++l) {
        sr[l] *= ar;
        qr[l] *= ar;
      }
    }
  };

  // The event's row (source j: j; target i: n + i) and its dx rows: a
  // source reads and writes its own; a target reads zeros and writes to the
  // dummy row, never read, so no update waits on another through memory.
  struct Rows {
    std::uint32_t lane, dx_read, dx_write;
    T pick;  // 1 at a target
  };
  auto rows = [&](std::int64_t k) __attribute__((always_inline)) {
    const std::uint32_t code = in.code[off + k];
    const std::uint32_t index = code & ~kLaplexTargetBit;
    const std::uint32_t target = code >> 31;
    const std::uint32_t mask = 0u - target;  // all ones at a target
    return Rows{index + (in.n & mask), (index & ~mask) | (in.zero_row & mask),
                (index & ~mask) | (in.dummy_row & mask), static_cast<T>(target)};
  };

  auto event = [&](std::int64_t k) {
    const Rows r = rows(k);
    const T* value = Ascending ? lanes + static_cast<std::int64_t>(r.lane) * W : event_lanes + k * W;
    if constexpr (Ascending) lanes::stream_row<T, W>(event_lanes + k * W, value);
    const T pick = r.pick;
    const T gain = Gains ? in.gain[off + k] : T(1);
    const T a = gain * (T(1) - pick), b = gain * pick;
    // The state this event reads: s at a target, q at a source.
    T dre = 0, dim = 0, m_re = 0, m_im = 0;
#pragma omp simd reduction(+ : dre, dim, m_re, m_im)
    for (int l = 0; l < W; ++l) {
      dre += value[l] * (qr[l] + pick * (sr[l] - qr[l]));
      if constexpr (Phased) dim += value[l] * (qi[l] + pick * (si[l] - qi[l]));
      if constexpr (Moments) m_re += value[l] * mr_[l];
      if constexpr (Phased && Moments) m_im += value[l] * mi_[l];
    }
    out_dot_re[k] += dre;
    if constexpr (Phased) out_dot_im[k] += dim;
    if constexpr (Moments) out_m_re[k] += m_re;
    if constexpr (Phased && Moments) out_m_im[k] += m_im;
    // The dx part reads q, which a source (the only event that writes a
    // real dx row) leaves as it is; so the row is read for the last time
    // here, before the dx update may overwrite it (one head, ascending).
    alignas(64) T q_re[W], q_im[W];
#pragma omp simd
    for (int l = 0; l < W; ++l) {
      q_re[l] = qr[l];
      if constexpr (Phased) q_im[l] = qi[l];
      sr[l] += a * value[l];
      qr[l] += b * value[l];
    }
    if (in.dx) {
      const T* base = dx_lanes + static_cast<std::int64_t>(r.dx_read) * W;
      T* dx = dx_lanes + static_cast<std::int64_t>(r.dx_write) * W;
      const T cr = a * in.cos_phi;
      constexpr bool add = AddUp || !Ascending;
      if constexpr (Phased) {
        const T ci = a * in.sin_phi;
#pragma omp simd
        for (int l = 0; l < W; ++l) dx[l] = (add ? base[l] : T(0)) + cr * q_re[l] - ci * q_im[l];
      } else {
#pragma omp simd
        for (int l = 0; l < W; ++l) dx[l] = (add ? base[l] : T(0)) + cr * q_re[l];
      }
    }
  };

  // Always inlined: see lanes::prefetch_row.
  auto prefetch = [&](std::int64_t k) __attribute__((always_inline)) {
    const Rows r = rows(k);
    if (Ascending) lanes::prefetch_row<T, W>(lanes + static_cast<std::int64_t>(r.lane) * W);
    if (in.dx && (!Ascending || AddUp))
      lanes::prefetch_row<T, W>(dx_lanes + static_cast<std::int64_t>(r.dx_read) * W);
  };
  const std::int64_t events = in.events;
  if constexpr (Ascending) {
    for (std::int64_t k = 0; k < events; ++k) {
      if (k + kPrefetchDistance < events) prefetch(k + kPrefetchDistance);
      decay(k);
      event(k);
    }
    lanes::stream_fence();
  } else {
    for (std::int64_t k = events - 1; k >= 0; --k) {
      if (k >= kPrefetchDistance) prefetch(k - kPrefetchDistance);
      event(k);
      decay(k);
    }
  }
}

template <class T, int W, bool Phased, bool Moments, bool Gains>
void backward_batch(const LaplexPlan<T>& plan, const LaplexShape& shape,
                    const LaplexParamPtrs<T>& p, const Decays<T>& d, const std::vector<T>& gains,
                    bool want_dx, const T* x, const T* gy, T* dx,
                    std::vector<Partial<T>>& partials, lanes::ThreadScratch& scratch) {
  const std::int64_t batch = shape.batch, m = shape.m, n = shape.n, events = plan.events();
  const std::int64_t chunks = (batch + W - 1) / W;
  // With one head the dx rows are the x rows (see the top of the file).
  const bool shared = plan.heads == 1;
  const std::size_t bytes = lanes::scratch_bytes<T, W>(m, n);
  const std::int64_t total = plan.heads * events;
#pragma omp parallel if (chunks > 1 && (m + n) * batch > lanes::kParallelWork)
  {
    const int thread = omp_get_thread_num();
    Partial<T>& part = partials[thread];
    part.allocate(scratch.get<T>(thread, Partial<T>::bytes(total), LaplexScratchPool::kSums),
                  total, Phased, Moments);
    // x rows, g rows, a zero and a dummy row; event rows; separate dx rows
    // (with their zero and dummy rows) for several heads.
    T* lanes = scratch.get<T>(thread, bytes);
    T* event_lanes = lanes + lanes::event_rows_offset<T, W>(m, n) / sizeof(T);
    T* dx_lanes = shared ? lanes : event_lanes + lanes::rows_bytes<T, W>(events) / sizeof(T);
    const std::int64_t zero_row = shared ? events : n;
    // nowait: the region's end is the one barrier (as in the forward).
#pragma omp for schedule(static) nowait
    for (std::int64_t chunk = 0; chunk < chunks; ++chunk) {
      const std::int64_t b0 = chunk * W;
      lanes::load<T, W>(x, batch, n, b0, lanes);
      lanes::load<T, W>(gy, batch, m, b0, lanes + n * W);
      if (want_dx) std::fill(dx_lanes + zero_row * W, dx_lanes + (zero_row + 1) * W, T(0));
      if (want_dx && !shared) std::fill(dx_lanes, dx_lanes + n * W, T(0));
      for (std::int64_t h = 0; h < plan.heads; ++h) {
        const HeadConstants<T> c = lanes::head_constants(shape, p, h);
        const SweepInput<T> in{plan.code.data(),
                               Gains ? gains.data() : nullptr,
                               &d,
                               h * events,
                               events,
                               static_cast<std::uint32_t>(n),
                               static_cast<std::uint32_t>(zero_row),
                               static_cast<std::uint32_t>(zero_row + 1),
                               c.cos_phi,
                               c.sin_phi,
                               want_dx};
        if (shared)
          sweep<T, W, Phased, Moments, Gains, true, false>(in, lanes, event_lanes, dx_lanes,
                                                           part.up);
        else
          sweep<T, W, Phased, Moments, Gains, true, true>(in, lanes, event_lanes, dx_lanes,
                                                          part.up);
        sweep<T, W, Phased, Moments, Gains, false, true>(in, lanes, event_lanes, dx_lanes,
                                                         part.down);
      }
      if (want_dx) lanes::store<T, W>(dx_lanes, batch, n, b0, dx);
    }
  }
}

template <class T, bool Phased, bool Moments, bool Gains>
void dispatch_width(const LaplexPlan<T>& plan, const LaplexShape& shape,
                    const LaplexParamPtrs<T>& p, const Decays<T>& d, const std::vector<T>& gains,
                    bool want_dx, const T* x, const T* gy, T* dx,
                    std::vector<Partial<T>>& partials, lanes::ThreadScratch& scratch) {
  // The widest chunks, as the backward from saved rows: each event's batch
  // sums then serve the most lanes (lanes::saved_backward_width).
  switch (lanes::widest_width(shape.batch, omp_get_max_threads())) {
    case 32:
      return backward_batch<T, 32, Phased, Moments, Gains>(plan, shape, p, d, gains, want_dx, x,
                                                           gy, dx, partials, scratch);
    case 16:
      return backward_batch<T, 16, Phased, Moments, Gains>(plan, shape, p, d, gains, want_dx, x,
                                                           gy, dx, partials, scratch);
    case 8:
      return backward_batch<T, 8, Phased, Moments, Gains>(plan, shape, p, d, gains, want_dx, x,
                                                          gy, dx, partials, scratch);
    case 4:
      return backward_batch<T, 4, Phased, Moments, Gains>(plan, shape, p, d, gains, want_dx, x,
                                                          gy, dx, partials, scratch);
    default:
      return backward_batch<T, 1, Phased, Moments, Gains>(plan, shape, p, d, gains, want_dx, x,
                                                          gy, dx, partials, scratch);
  }
}

// The sweeps that gather x again (several heads, or no saved forward).
template <class T>
void gather_sweeps(const LaplexPlan<T>& plan, const LaplexShape& shape,
                   const LaplexParamPtrs<T>& params, const Decays<T>& d,
                   const std::vector<T>& gains, const Needs& need, const T* x, const T* gy, T* dx,
                   std::vector<Partial<T>>& partials, lanes::ThreadScratch& scratch) {
  auto run = [&](auto phased, auto moments, auto with_gains) {
    dispatch_width<T, decltype(phased)::value, decltype(moments)::value,
                   decltype(with_gains)::value>(plan, shape, params, d, gains, need.dx, x, gy, dx,
                                                partials, scratch);
  };
  backward::with_sweep_flags(shape.phased, need.moments(), params.has_gains(), run);
}

}  // namespace

template <class T>
void laplex_backward(const LaplexPlan<T>& plan, const LaplexShape& shape,
                     const LaplexParamPtrs<T>& params, const T* x, const T* gy,
                     const LaplexGradPtrs<T>& grads, LaplexSaved<T>* saved) {
  lanes::check_plan(plan, shape, params);
  Needs need;
  need.dx = grads.dx != nullptr;
  need.dt = grads.dt != nullptr;
  need.ds = grads.ds != nullptr;
  need.du = grads.du != nullptr;
  need.dv = grads.dv != nullptr;
  need.drho = grads.drho != nullptr;
  need.domega = shape.phased && grads.domega != nullptr;
  need.dphi = shape.phased && grads.dphi != nullptr;
  check(!need.du || params.u, "laplex: du asked for without gains u");
  check(!need.dv || params.v, "laplex: dv asked for without gains v");

  const std::int64_t heads = shape.heads, m = shape.m, n = shape.n;
  std::vector<Partial<T>> partials(static_cast<std::size_t>(omp_get_max_threads()));
  // Held until the parameter gradients have read the partial sums.
  lanes::ThreadScratch scratch(*plan.scratch, omp_get_max_threads());
  const bool any = need.left_right() || need.transposed();
  if (any && shape.batch > 0 && plan.events() > 0) {
    // Rows saved by this plan's forward, of this batch.
    const bool from_saved = saved && saved->rows && saved->plan == &plan && plan.heads == 1 &&
                            saved->batch == shape.batch && saved->m == m && saved->n == n;
    if (from_saved) {
      // The forward's decays and gains; the sweeps make the moment factors.
      Decays<T> d;
      d.re = std::move(saved->decay_re);
      d.im = std::move(saved->decay_im);
      const std::vector<T> gains = std::move(saved->gains);
      backward::sweeps_from_saved(plan, shape, params, d, gains, need, *saved, gy, grads.dx,
                                  partials, scratch);
      // Consumed: back to the pool for the next forward.
      scratch.keep_saved(std::move(saved->rows), saved->bytes);
      saved->bytes = 0;
      saved->plan = nullptr;
    } else {
      const Decays<T> d = lanes::make_decays(plan, shape, params, need.moments());
      const std::vector<T> gains = make_event_gains(plan, shape, params);
      gather_sweeps(plan, shape, params, d, gains, need, x, gy, grads.dx, partials, scratch);
    }
  } else if (grads.dx) {
    std::fill(grads.dx, grads.dx + shape.batch * n, T(0));
  }
  if (shape.batch == 0 || plan.events() == 0 || !any) {
    for (auto [out, count] : {std::pair{grads.dt, heads * m}, std::pair{grads.du, heads * m},
                              std::pair{grads.ds, heads * n}, std::pair{grads.dv, heads * n},
                              std::pair{grads.drho, heads}, std::pair{grads.domega, heads},
                              std::pair{grads.dphi, heads}})
      if (out) std::fill(out, out + count, T(0));
    return;
  }
  const bool parallel_heads = heads > 1 && heads * plan.events() > lanes::kParallelWork;
#pragma omp parallel for schedule(dynamic, 1) if (parallel_heads)
  for (std::int64_t h = 0; h < heads; ++h)
    backward::head_gradients(plan, shape, params, grads, partials, h, heads == 1);
}

template void laplex_backward(const LaplexPlan<float>&, const LaplexShape&,
                              const LaplexParamPtrs<float>&, const float*, const float*,
                              const LaplexGradPtrs<float>&, LaplexSaved<float>*);
template void laplex_backward(const LaplexPlan<double>&, const LaplexShape&,
                              const LaplexParamPtrs<double>&, const double*, const double*,
                              const LaplexGradPtrs<double>&, LaplexSaved<double>*);

}  // namespace laplex::cpu
