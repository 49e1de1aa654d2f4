// Forward and transposed apply: per head, an ascending and a descending scan
// over the merged anchors (laplex-math.md section 2; transposed: section 3,
// P and Q). Inputs sit at one class of events (sources for the forward,
// targets for the transposed apply) and outputs are read at the other.
//
// The scans are branch-free: targets and sources interleave at random, and a
// mispredicted branch per event cost more than the event's arithmetic. Each
// event reads its slot of one lane buffer (inputs and outputs side by side),
// adds in_coef * slot to the state and adds out_coef * state to the slot;
// one of the two coefficients is zero, so the other kind of event is a no-op.
#include "layers/laplex/laplex_cpu.h"

#include <omp.h>

#include "layers/laplex/laplex_lanes.h"

namespace laplex::cpu {

namespace {

using lanes::Decays;
using lanes::HeadConstants;

// Events between a prefetch and its use.
constexpr std::int64_t kPrefetchDistance = 16;

// Per head, per event: the lane slot and the two coefficients (the output
// one complex when phased: gain * e^{i phi}).
template <class T>
struct EventTable {
  std::vector<std::uint32_t> slot;
  std::vector<T> in_coef, out_re, out_im;
};

// Slots: inputs at [0, in_count), outputs at [in_count, in_count + out_count).
template <class T>
EventTable<T> make_table(const LaplexPlan<T>& plan, const LaplexShape& shape,
                         const LaplexParamPtrs<T>& p, bool transposed) {
  const std::int64_t events = plan.events(), total = plan.heads * events;
  const std::int64_t in_count = transposed ? shape.m : shape.n;
  EventTable<T> table;
  table.slot.resize(total);
  table.in_coef.resize(total);
  table.out_re.resize(total);
  if (shape.phased) table.out_im.resize(total);
  for (std::int64_t h = 0; h < plan.heads; ++h) {
    const HeadConstants<T> c = lanes::head_constants(shape, p, h);
    const T* u = p.u ? p.u + h * shape.m : nullptr;
    const T* v = p.v ? p.v + h * shape.n : nullptr;
    const T* in_gain = transposed ? u : v;
    const T* out_gain = transposed ? v : u;
    const std::int64_t off = h * events;
#pragma omp parallel for schedule(static) if (events > lanes::kParallelWork)
    for (std::int64_t k = 0; k < events; ++k) {
      const std::uint32_t code = plan.code[off + k];
      const bool target = (code & kLaplexTargetBit) != 0;
      const std::uint32_t index = code & ~kLaplexTargetBit;
      if (target == transposed) {  // an input event
        table.slot[off + k] = index;
        table.in_coef[off + k] = in_gain ? in_gain[index] : T(1);
        table.out_re[off + k] = T(0);
        if (shape.phased) table.out_im[off + k] = T(0);
      } else {
        table.slot[off + k] = static_cast<std::uint32_t>(in_count) + index;
        table.in_coef[off + k] = T(0);
        const T gain = out_gain ? out_gain[index] : T(1);
        table.out_re[off + k] = gain * c.cos_phi;
        if (shape.phased) table.out_im[off + k] = gain * c.sin_phi;
      }
    }
  }
  return table;
}

// One scan of one head over W lanes. `conj` picks conj(lam) (the imaginary
// part of every decay negated). Ascending scans decay into an event and then
// handle it; descending scans handle an event and then decay past its gap.
template <class T, int W, bool Phased, bool Ascending>
void scan(const std::uint32_t* slot, const T* in_coef, const T* out_re, const T* out_im,
          const T* decay_re, const T* decay_im, std::int64_t events, bool conj, T* lanes) {
  alignas(64) T sr[W] = {};
  alignas(64) T si[W] = {};
  const T sign = conj ? T(-1) : T(1);
  auto step = [&](std::int64_t k, std::int64_t decay_at) {
    T* lane = lanes + static_cast<std::int64_t>(slot[k]) * W;
    const T a = in_coef[k], br = out_re[k];
    if constexpr (Phased) {
      const T bi = out_im[k];
      if (Ascending) {
        const T er = decay_re[decay_at], ei = sign * decay_im[decay_at];
#pragma omp simd
        for (int l = 0; l < W; ++l) {
          const T value = lane[l];
          const T r = er * sr[l] - ei * si[l] + a * value;
          si[l] = er * si[l] + ei * sr[l];
          sr[l] = r;
          lane[l] = value + br * sr[l] - bi * si[l];
        }
      } else {
        const T er = decay_re[decay_at], ei = sign * decay_im[decay_at];
#pragma omp simd
        for (int l = 0; l < W; ++l) {
          const T value = lane[l];
          const T r = sr[l] + a * value;
          lane[l] = value + br * r - bi * si[l];
          sr[l] = er * r - ei * si[l];
          si[l] = er * si[l] + ei * r;
        }
      }
    } else {
      const T e = decay_re[decay_at];
      if (Ascending) {
#pragma omp simd
        for (int l = 0; l < W; ++l) {
          const T value = lane[l];
          sr[l] = e * sr[l] + a * value;
          lane[l] = value + br * sr[l];
        }
      } else {
#pragma omp simd
        for (int l = 0; l < W; ++l) {
          const T value = lane[l];
          const T r = sr[l] + a * value;
          lane[l] = value + br * r;
          sr[l] = e * r;
        }
      }
    }
  };
  // Slots come in anchor order, i.e. at random: ask for them (with intent
  // to write) a few events ahead so the scan is not bound by cache latency.
  auto prefetch = [&](std::int64_t k) {
    const T* lane = lanes + static_cast<std::int64_t>(slot[k]) * W;
    for (int l = 0; l < W; l += 64 / static_cast<int>(sizeof(T))) __builtin_prefetch(lane + l, 1);
  };
  if constexpr (Ascending) {
    const std::int64_t body = std::max<std::int64_t>(events - kPrefetchDistance, 0);
    for (std::int64_t k = 0; k < body; ++k) {
      prefetch(k + kPrefetchDistance);
      step(k, k);
    }
    for (std::int64_t k = body; k < events; ++k) step(k, k);
  } else {
    std::int64_t k = events - 1;
    for (; k >= kPrefetchDistance; --k) {
      prefetch(k - kPrefetchDistance);
      step(k, k);
    }
    for (; k >= 0; --k) step(k, k);
  }
}

template <class T, int W, bool Phased>
void apply_batch(const LaplexPlan<T>& plan, const LaplexShape& shape, const Decays<T>& d,
                 const EventTable<T>& table, bool transposed, const T* in, T* out) {
  const std::int64_t batch = shape.batch, events = plan.events();
  const std::int64_t in_cols = transposed ? shape.m : shape.n;
  const std::int64_t out_cols = transposed ? shape.n : shape.m;
  const std::int64_t chunks = (batch + W - 1) / W;
#pragma omp parallel if (chunks > 1 && (in_cols + out_cols) * batch > lanes::kParallelWork)
  {
    lanes::Scratch<T> buffer(events * W);
    T* lanes = buffer.get();
    T* out_lanes = lanes + in_cols * W;
#pragma omp for schedule(static)
    for (std::int64_t chunk = 0; chunk < chunks; ++chunk) {
      const std::int64_t b0 = chunk * W;
      lanes::load<T, W>(in, batch, in_cols, b0, lanes);
      std::fill(out_lanes, out_lanes + out_cols * W, T(0));
      for (std::int64_t h = 0; h < plan.heads; ++h) {
        const std::int64_t off = h * events;
        const T* re = d.re.data() + off;
        const T* im = Phased ? d.im.data() + off : nullptr;
        const std::uint32_t* slot = table.slot.data() + off;
        const T* a = table.in_coef.data() + off;
        const T* br = table.out_re.data() + off;
        const T* bi = Phased ? table.out_im.data() + off : nullptr;
        // Forward: L ascending with lam, R descending with conj(lam).
        // Transposed: Q ascending with conj(lam), P descending with lam.
        scan<T, W, Phased, true>(slot, a, br, bi, re, im, events, transposed, lanes);
        scan<T, W, Phased, false>(slot, a, br, bi, re, im, events, !transposed, lanes);
      }
      lanes::store<T, W>(out_lanes, batch, out_cols, b0, out);
    }
  }
}

template <class T, bool Phased>
void dispatch_width(const LaplexPlan<T>& plan, const LaplexShape& shape, const Decays<T>& d,
                    const EventTable<T>& table, bool transposed, const T* in, T* out) {
  // Narrower than 4 lanes only for a batch that small: at n = 2^18 one lane
  // in cache lost to 16 lanes out of it (1.8x, random anchors).
  switch (lanes::choose_width(shape.batch, omp_get_max_threads(), plan.events(), sizeof(T), 4)) {
    case 16: return apply_batch<T, 16, Phased>(plan, shape, d, table, transposed, in, out);
    case 8: return apply_batch<T, 8, Phased>(plan, shape, d, table, transposed, in, out);
    case 4: return apply_batch<T, 4, Phased>(plan, shape, d, table, transposed, in, out);
    default: return apply_batch<T, 1, Phased>(plan, shape, d, table, transposed, in, out);
  }
}

template <class T>
void apply(const LaplexPlan<T>& plan, const LaplexShape& shape, const LaplexParamPtrs<T>& p,
           bool transposed, const T* in, T* out) {
  lanes::check_plan(plan, shape, p);
  const std::int64_t out_cols = transposed ? shape.n : shape.m;
  if (shape.batch == 0) return;
  if (plan.events() == 0 || (transposed ? shape.m : shape.n) == 0) {
    std::fill(out, out + shape.batch * out_cols, T(0));
    return;
  }
  const Decays<T> d = lanes::make_decays(plan, shape, p, false);
  const EventTable<T> table = make_table(plan, shape, p, transposed);
  if (shape.phased)
    dispatch_width<T, true>(plan, shape, d, table, transposed, in, out);
  else
    dispatch_width<T, false>(plan, shape, d, table, transposed, in, out);
}

}  // namespace

template <class T>
void laplex_forward(const LaplexPlan<T>& plan, const LaplexShape& shape,
                    const LaplexParamPtrs<T>& params, const T* x, T* y) {
  apply(plan, shape, params, false, x, y);
}

template <class T>
void laplex_apply_transposed(const LaplexPlan<T>& plan, const LaplexShape& shape,
                             const LaplexParamPtrs<T>& params, const T* g, T* out) {
  apply(plan, shape, params, true, g, out);
}

template void laplex_forward(const LaplexPlan<float>&, const LaplexShape&,
                             const LaplexParamPtrs<float>&, const float*, float*);
template void laplex_forward(const LaplexPlan<double>&, const LaplexShape&,
                             const LaplexParamPtrs<double>&, const double*, double*);
template void laplex_apply_transposed(const LaplexPlan<float>&, const LaplexShape&,
                                      const LaplexParamPtrs<float>&, const float*, float*);
template void laplex_apply_transposed(const LaplexPlan<double>&, const LaplexShape&,
                                      const LaplexParamPtrs<double>&, const double*, double*);

}  // namespace laplex::cpu
