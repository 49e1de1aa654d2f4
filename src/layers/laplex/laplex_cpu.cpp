// Forward and transposed apply: per head, an ascending and a descending scan
// over the merged anchors (laplex-math.md section 2; transposed: section 3,
// P and Q). Inputs sit at one class of events (sources for the forward,
// targets for the transposed apply) and outputs are read at the other.
#include "layers/laplex/laplex_cpu.h"

#include <omp.h>

#include "layers/laplex/laplex_lanes.h"

namespace laplex::cpu {

namespace {

using lanes::Decays;
using lanes::HeadConstants;

// Events between a prefetch and its use.
constexpr std::int64_t kPrefetchDistance = 32;

// One scan of one head over W lanes. `conj` picks conj(lam) (the imaginary
// part of every decay negated). Ascending scans decay into an event and then
// handle it; descending scans handle an event and then decay past its gap.
// With Assign the outputs are written rather than added to (the first scan
// of a call: no need to clear them first).
template <class T, int W, bool Phased, bool Ascending, bool Assign>
void scan(const std::uint32_t* code, const T* decay_re, const T* decay_im, std::int64_t events,
          bool conj, bool input_is_target, const T* in_gain, const T* out_gain,
          const HeadConstants<T>& c, const T* in, T* out) {
  alignas(64) T sr[W] = {};
  alignas(64) T si[W] = {};
  const T sign = conj ? T(-1) : T(1);
  auto decay = [&](std::int64_t k) {
    const T ar = decay_re[k];
    if constexpr (Phased) {
      const T ai = sign * decay_im[k];
#pragma omp simd
      for (int l = 0; l < W; ++l) {
        const T r = ar * sr[l] - ai * si[l];
        si[l] = ar * si[l] + ai * sr[l];
        sr[l] = r;
      }
    } else {
#pragma omp simd
      for (int l = 0; l < W; ++l) sr[l] *= ar;
    }
  };
  auto event = [&](std::int64_t k) {
    const std::uint32_t code_k = code[k];
    const bool target = (code_k & kLaplexTargetBit) != 0;
    const std::int64_t index = code_k & ~kLaplexTargetBit;
    if (target == input_is_target) {
      const T gain = in_gain ? in_gain[index] : T(1);
      const T* lane = in + index * W;
#pragma omp simd
      for (int l = 0; l < W; ++l) sr[l] += gain * lane[l];
    } else {
      const T gain = out_gain ? out_gain[index] : T(1);
      T* lane = out + index * W;
      if constexpr (Phased) {
        // Re[gain e^{i phi} sigma]
        const T gr = gain * c.cos_phi, gi = gain * c.sin_phi;
#pragma omp simd
        for (int l = 0; l < W; ++l)
          lane[l] = (Assign ? T(0) : lane[l]) + gr * sr[l] - gi * si[l];
      } else {
#pragma omp simd
        for (int l = 0; l < W; ++l) lane[l] = (Assign ? T(0) : lane[l]) + gain * sr[l];
      }
    }
  };
  // The lanes of an event sit at a random place (anchors come in any order):
  // fetch them a few events ahead so the scan is not bound by memory latency.
  auto prefetch = [&](std::int64_t k) {
    const std::uint32_t code_k = code[k];
    const bool target = (code_k & kLaplexTargetBit) != 0;
    const T* lane = (target == input_is_target ? in : out) +
                    static_cast<std::int64_t>(code_k & ~kLaplexTargetBit) * W;
    for (int l = 0; l < W; l += 64 / static_cast<int>(sizeof(T))) __builtin_prefetch(lane + l, 1);
  };
  if constexpr (Ascending) {
    for (std::int64_t k = 0; k < events; ++k) {
      if (k + kPrefetchDistance < events) prefetch(k + kPrefetchDistance);
      decay(k);
      event(k);
    }
  } else {
    for (std::int64_t k = events - 1; k >= 0; --k) {
      if (k >= kPrefetchDistance) prefetch(k - kPrefetchDistance);
      event(k);
      decay(k);
    }
  }
}

// Applies every head to one chunk of W lanes: in_lanes (in_count x W) to
// out_lanes (out_count x W), accumulated over heads.
template <class T, int W, bool Phased>
void apply_heads(const LaplexPlan<T>& plan, const LaplexShape& shape,
                 const LaplexParamPtrs<T>& p, const Decays<T>& d, bool transposed,
                 const T* in_lanes, T* out_lanes) {
  const std::int64_t events = plan.events();
  for (std::int64_t h = 0; h < plan.heads; ++h) {
    const HeadConstants<T> c = lanes::head_constants(shape, p, h);
    const std::uint32_t* code = plan.code.data() + h * events;
    const T* re = d.re.data() + h * events;
    const T* im = Phased ? d.im.data() + h * events : nullptr;
    const T* u = p.u ? p.u + h * shape.m : nullptr;
    const T* v = p.v ? p.v + h * shape.n : nullptr;
    // Forward: L ascending with lam, R descending with conj(lam); sources in.
    // Transposed: Q ascending with conj(lam), P descending with lam; targets in.
    const T* in_gain = transposed ? u : v;
    const T* out_gain = transposed ? v : u;
    if (h == 0)
      scan<T, W, Phased, true, true>(code, re, im, events, transposed, transposed, in_gain,
                                     out_gain, c, in_lanes, out_lanes);
    else
      scan<T, W, Phased, true, false>(code, re, im, events, transposed, transposed, in_gain,
                                      out_gain, c, in_lanes, out_lanes);
    scan<T, W, Phased, false, false>(code, re, im, events, !transposed, transposed, in_gain,
                                     out_gain, c, in_lanes, out_lanes);
  }
}

template <class T, int W, bool Phased>
void apply_batch(const LaplexPlan<T>& plan, const LaplexShape& shape,
                 const LaplexParamPtrs<T>& p, const Decays<T>& d, bool transposed, const T* in,
                 T* out) {
  const std::int64_t batch = shape.batch;
  const std::int64_t in_cols = transposed ? shape.m : shape.n;
  const std::int64_t out_cols = transposed ? shape.n : shape.m;
  const std::int64_t chunks = (batch + W - 1) / W;
#pragma omp parallel if (chunks > 1 && (in_cols + out_cols) * batch > lanes::kParallelWork)
  {
    lanes::Scratch<T> in_lanes(in_cols * W), out_lanes(out_cols * W);
#pragma omp for schedule(static)
    for (std::int64_t chunk = 0; chunk < chunks; ++chunk) {
      const std::int64_t b0 = chunk * W;
      lanes::load<T, W>(in, batch, in_cols, b0, in_lanes.get());
      apply_heads<T, W, Phased>(plan, shape, p, d, transposed, in_lanes.get(), out_lanes.get());
      lanes::store<T, W>(out_lanes.get(), batch, out_cols, b0, out);
    }
  }
}

template <class T, bool Phased>
void dispatch_width(const LaplexPlan<T>& plan, const LaplexShape& shape,
                    const LaplexParamPtrs<T>& p, const Decays<T>& d, bool transposed, const T* in,
                    T* out) {
  switch (lanes::choose_width(shape.batch, omp_get_max_threads())) {
    case 16: return apply_batch<T, 16, Phased>(plan, shape, p, d, transposed, in, out);
    case 8: return apply_batch<T, 8, Phased>(plan, shape, p, d, transposed, in, out);
    case 4: return apply_batch<T, 4, Phased>(plan, shape, p, d, transposed, in, out);
    default: return apply_batch<T, 1, Phased>(plan, shape, p, d, transposed, in, out);
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
  if (shape.phased)
    dispatch_width<T, true>(plan, shape, p, d, transposed, in, out);
  else
    dispatch_width<T, false>(plan, shape, p, d, transposed, in, out);
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
