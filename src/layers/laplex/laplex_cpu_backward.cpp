// The backward of laplex-math.md section 3 as two fused sweeps per head and
// batch chunk. The ascending sweep carries L (lam), its first moment L1 and
// Q (conj lam); the descending sweep carries R (conj lam), R1 and P (lam).
// Targets hold g, sources hold x; a target reads L/R (parameter gradients of
// its row) and feeds P/Q with u g; a source feeds L/R with v x and reads P/Q
// (dx, and the gradients of its column). Nothing of the forward is stored.
#include <omp.h>

#include "layers/laplex/laplex_cpu.h"
#include "layers/laplex/laplex_lanes.h"

namespace laplex::cpu {

namespace {

using lanes::Decays;
using lanes::HeadConstants;

// Which outputs were asked for; each decides which scans and dots run.
struct Needs {
  bool dx = false, dt = false, ds = false, du = false, dv = false;
  bool drho = false, domega = false, dphi = false;
  bool left_right() const { return dt || du || drho || domega || dphi; }
  bool moments() const { return drho || domega; }
  bool transposed() const { return dx || ds || dv; }
  bool column_dots() const { return ds || dv; }
};

// One thread's share of the parameter gradients, summed over its chunks.
template <class T>
struct Partial {
  std::vector<T> dt, du, ds, dv;
  // Sums over every target and batch row: kept in double so float32 stays
  // accurate at 10^9 terms.
  std::vector<double> dalpha, domega, dphi;
};

// The head-level pieces of a sweep: gains, constants and this head's slice
// of the thread's gradient sums (null when not needed).
template <class T>
struct HeadView {
  HeadConstants<T> c;
  const T* u = nullptr;
  const T* v = nullptr;
  T* dt = nullptr;
  T* du = nullptr;
  T* ds = nullptr;
  T* dv = nullptr;
  double dalpha = 0, domega = 0, dphi = 0;
};

// (a + i b) e^{i phi}
template <class T>
inline void rotate(const HeadConstants<T>& c, T a, T b, T& re, T& im) {
  re = c.cos_phi * a - c.sin_phi * b;
  im = c.sin_phi * a + c.cos_phi * b;
}

template <class T, int W>
[[gnu::always_inline]] inline T dot(const T* a, const T* b) {
  T sum = 0;
#pragma omp simd reduction(+ : sum)
  for (int l = 0; l < W; ++l) sum += a[l] * b[l];
  return sum;
}

// sigma <- e sigma for the complex decay (ar, ai); real when not phased.
template <class T, int W, bool Phased>
inline void decay_state(T* sr, T* si, T ar, T ai) {
  if constexpr (Phased) {
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
}

// mu <- e mu + (D e) sigma, with sigma before its own decay.
template <class T, int W, bool Phased>
inline void decay_moment(T* mr, T* mi, const T* sr, const T* si, T ar, T ai, T dr, T di) {
  if constexpr (Phased) {
#pragma omp simd
    for (int l = 0; l < W; ++l) {
      const T r = ar * mr[l] - ai * mi[l] + dr * sr[l] - di * si[l];
      mi[l] = ar * mi[l] + ai * mr[l] + dr * si[l] + di * sr[l];
      mr[l] = r;
    }
  } else {
#pragma omp simd
    for (int l = 0; l < W; ++l) mr[l] = ar * mr[l] + dr * sr[l];
  }
}

// The sweeps' states, W lanes each, re and im apart.
template <class T, int W>
struct States {
  alignas(64) T sr[W] = {}, si[W] = {};  // L or R: sources' v x
  alignas(64) T mr[W] = {}, mi[W] = {};  // L1 or R1
  alignas(64) T qr[W] = {}, qi[W] = {};  // Q or P: targets' u g
};

// Row gradients from the L (left = true) or R sums of one target, given
// GL = sum_b g_b L_b and GL1 = sum_b g_b L1_b (likewise for R).
template <class T>
inline void target_grads(HeadView<T>& hv, std::int64_t i, bool left, T gl_re, T gl_im, T g1_re,
                         T g1_im) {
  const T ui = hv.u ? hv.u[i] : T(1);
  const T alpha = hv.c.alpha, omega = hv.c.omega;
  T a, b;
  rotate(hv.c, gl_re, gl_im, a, b);
  if (hv.du) hv.du[i] += a;
  // Re[e^{i phi} (-lam) GL] or Re[e^{i phi} conj(lam) GR]
  if (hv.dt) hv.dt[i] += ui * (left ? -alpha * a - omega * b : alpha * a - omega * b);
  hv.dphi -= ui * b;
  T a1, b1;
  rotate(hv.c, g1_re, g1_im, a1, b1);
  hv.dalpha -= ui * a1;
  hv.domega += left ? -ui * b1 : ui * b1;
}

// Column gradients from the Q (ascending = true) or P sums of one source,
// given XQ = sum_b x_b Q_b (likewise XP).
template <class T>
inline void source_grads(HeadView<T>& hv, std::int64_t j, bool ascending, T xq_re, T xq_im) {
  const T vj = hv.v ? hv.v[j] : T(1);
  const T alpha = hv.c.alpha, omega = hv.c.omega;
  T a, b;
  rotate(hv.c, xq_re, xq_im, a, b);
  if (hv.dv) hv.dv[j] += a;
  // -v Re[e^{i phi} conj(lam) XQ] or -v Re[e^{i phi} (-lam) XP]
  if (hv.ds) hv.ds[j] -= vj * (ascending ? alpha * a - omega * b : -alpha * a - omega * b);
}

// One event of either sweep. `ascending` picks which of the states' phases
// the event belongs to (L/Q or R/P); the decays are applied by the caller.
template <class T, int W, bool Phased, bool Moments>
inline void handle_event(std::uint32_t code, bool ascending, const Needs& need, HeadView<T>& hv,
                         States<T, W>& st, const T* x_lanes, const T* g_lanes, T* dx_lanes) {
  const std::int64_t index = code & ~kLaplexTargetBit;
  if (code & kLaplexTargetBit) {
    const T* g = g_lanes + index * W;
    if (need.left_right()) {
      const T gr = dot<T, W>(g, st.sr);
      const T gi = Phased ? dot<T, W>(g, st.si) : T(0);
      const T g1r = Moments ? dot<T, W>(g, st.mr) : T(0);
      const T g1i = Phased && Moments ? dot<T, W>(g, st.mi) : T(0);
      target_grads(hv, index, ascending, gr, gi, g1r, g1i);
    }
    if (need.transposed()) {
      const T ui = hv.u ? hv.u[index] : T(1);
#pragma omp simd
      for (int l = 0; l < W; ++l) st.qr[l] += ui * g[l];
    }
  } else {
    const T* x = x_lanes + index * W;
    const T vj = hv.v ? hv.v[index] : T(1);
    if (need.left_right()) {
#pragma omp simd
      for (int l = 0; l < W; ++l) st.sr[l] += vj * x[l];
    }
    if (need.dx) {
      T* dx = dx_lanes + index * W;
      const T gr = vj * hv.c.cos_phi, gi = vj * hv.c.sin_phi;
      if constexpr (Phased) {
#pragma omp simd
        for (int l = 0; l < W; ++l) dx[l] += gr * st.qr[l] - gi * st.qi[l];
      } else {
#pragma omp simd
        for (int l = 0; l < W; ++l) dx[l] += gr * st.qr[l];
      }
    }
    if (need.column_dots()) {
      const T xr = dot<T, W>(x, st.qr);
      const T xi = Phased ? dot<T, W>(x, st.qi) : T(0);
      source_grads(hv, index, ascending, xr, xi);
    }
  }
}

template <class T, int W, bool Phased, bool Moments>
void backward_head(const std::uint32_t* code, const T* er, const T* ei, const T* mre,
                   const T* mim, std::int64_t events, const Needs& need, HeadView<T>& hv,
                   const T* x_lanes, const T* g_lanes, T* dx_lanes) {
  const bool left_right = need.left_right(), transposed = need.transposed();
  {
    // Ascending: L and L1 decay with lam, Q with conj(lam); decay, then the event.
    States<T, W> st;
    for (std::int64_t k = 0; k < events; ++k) {
      const T ar = er[k], ai = Phased ? ei[k] : T(0);
      if (left_right) {
        if constexpr (Moments)
          decay_moment<T, W, Phased>(st.mr, st.mi, st.sr, st.si, ar, ai, mre[k],
                                     Phased ? mim[k] : T(0));
        decay_state<T, W, Phased>(st.sr, st.si, ar, ai);
      }
      if (transposed) decay_state<T, W, Phased>(st.qr, st.qi, ar, -ai);
      handle_event<T, W, Phased, Moments>(code[k], true, need, hv, st, x_lanes, g_lanes,
                                          dx_lanes);
    }
  }
  {
    // Descending: R and R1 decay with conj(lam), P with lam; the event, then
    // the decay across its gap.
    States<T, W> st;
    for (std::int64_t k = events - 1; k >= 0; --k) {
      handle_event<T, W, Phased, Moments>(code[k], false, need, hv, st, x_lanes, g_lanes,
                                          dx_lanes);
      const T ar = er[k], ai = Phased ? ei[k] : T(0);
      if (left_right) {
        if constexpr (Moments)
          decay_moment<T, W, Phased>(st.mr, st.mi, st.sr, st.si, ar, -ai, mre[k],
                                     Phased ? -mim[k] : T(0));
        decay_state<T, W, Phased>(st.sr, st.si, ar, -ai);
      }
      if (transposed) decay_state<T, W, Phased>(st.qr, st.qi, ar, ai);
    }
  }
}

template <class T>
void allocate(Partial<T>& part, const Needs& need, std::int64_t heads, std::int64_t m,
              std::int64_t n) {
  if (need.dt) part.dt.assign(heads * m, T(0));
  if (need.du) part.du.assign(heads * m, T(0));
  if (need.ds) part.ds.assign(heads * n, T(0));
  if (need.dv) part.dv.assign(heads * n, T(0));
  part.dalpha.assign(heads, 0.0);
  part.domega.assign(heads, 0.0);
  part.dphi.assign(heads, 0.0);
}

template <class T, int W, bool Phased, bool Moments>
void backward_batch(const LaplexPlan<T>& plan, const LaplexShape& shape,
                    const LaplexParamPtrs<T>& p, const Decays<T>& d, const Needs& need,
                    const T* x, const T* gy, T* dx, std::vector<Partial<T>>& partials) {
  const std::int64_t batch = shape.batch, m = shape.m, n = shape.n, events = plan.events();
  const std::int64_t chunks = (batch + W - 1) / W;
#pragma omp parallel if (chunks > 1 && (m + n) * batch > lanes::kParallelWork)
  {
    Partial<T>& part = partials[omp_get_thread_num()];
    allocate(part, need, shape.heads, m, n);
    lanes::Scratch<T> x_lanes(n * W), g_lanes(m * W), dx_lanes(need.dx ? n * W : 0);
#pragma omp for schedule(static)
    for (std::int64_t chunk = 0; chunk < chunks; ++chunk) {
      const std::int64_t b0 = chunk * W;
      lanes::load<T, W>(x, batch, n, b0, x_lanes.get());
      lanes::load<T, W>(gy, batch, m, b0, g_lanes.get());
      if (need.dx) std::fill(dx_lanes.get(), dx_lanes.get() + n * W, T(0));
      for (std::int64_t h = 0; h < shape.heads; ++h) {
        HeadView<T> hv;
        hv.c = lanes::head_constants(shape, p, h);
        hv.u = p.u ? p.u + h * m : nullptr;
        hv.v = p.v ? p.v + h * n : nullptr;
        hv.dt = need.dt ? part.dt.data() + h * m : nullptr;
        hv.du = need.du ? part.du.data() + h * m : nullptr;
        hv.ds = need.ds ? part.ds.data() + h * n : nullptr;
        hv.dv = need.dv ? part.dv.data() + h * n : nullptr;
        const std::int64_t off = h * events;
        backward_head<T, W, Phased, Moments>(
            plan.code.data() + off, d.re.data() + off, Phased ? d.im.data() + off : nullptr,
            Moments ? d.moment_re.data() + off : nullptr,
            Phased && Moments ? d.moment_im.data() + off : nullptr, events, need, hv,
            x_lanes.get(), g_lanes.get(), dx_lanes.get());
        part.dalpha[h] += hv.dalpha;
        part.domega[h] += hv.domega;
        part.dphi[h] += hv.dphi;
      }
      if (need.dx) lanes::store<T, W>(dx_lanes.get(), batch, n, b0, dx);
    }
  }
}

template <class T, bool Phased, bool Moments>
void dispatch_width(const LaplexPlan<T>& plan, const LaplexShape& shape,
                    const LaplexParamPtrs<T>& p, const Decays<T>& d, const Needs& need,
                    const T* x, const T* gy, T* dx, std::vector<Partial<T>>& partials) {
  switch (lanes::choose_width(shape.batch, omp_get_max_threads())) {
    case 16:
      return backward_batch<T, 16, Phased, Moments>(plan, shape, p, d, need, x, gy, dx, partials);
    case 8:
      return backward_batch<T, 8, Phased, Moments>(plan, shape, p, d, need, x, gy, dx, partials);
    case 4:
      return backward_batch<T, 4, Phased, Moments>(plan, shape, p, d, need, x, gy, dx, partials);
    default:
      return backward_batch<T, 1, Phased, Moments>(plan, shape, p, d, need, x, gy, dx, partials);
  }
}

// out[k] = sum over threads of the threads' field, in thread order.
template <class T>
void reduce_into(T* out, std::int64_t count, const std::vector<Partial<T>>& partials,
                 std::vector<T> Partial<T>::*field) {
  if (!out) return;
  std::fill(out, out + count, T(0));
  for (const Partial<T>& part : partials) {
    const std::vector<T>& values = part.*field;
    if (values.empty()) continue;
#pragma omp parallel for simd schedule(static) if (count > lanes::kParallelWork)
    for (std::int64_t k = 0; k < count; ++k) out[k] += values[k];
  }
}

}  // namespace

template <class T>
void laplex_backward(const LaplexPlan<T>& plan, const LaplexShape& shape,
                     const LaplexParamPtrs<T>& params, const T* x, const T* gy,
                     const LaplexGradPtrs<T>& grads) {
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
  const bool any = need.left_right() || need.transposed();
  if (any && shape.batch > 0 && plan.events() > 0) {
    const Decays<T> d = lanes::make_decays(plan, shape, params, need.moments());
    if (shape.phased) {
      if (need.moments())
        dispatch_width<T, true, true>(plan, shape, params, d, need, x, gy, grads.dx, partials);
      else
        dispatch_width<T, true, false>(plan, shape, params, d, need, x, gy, grads.dx, partials);
    } else {
      if (need.moments())
        dispatch_width<T, false, true>(plan, shape, params, d, need, x, gy, grads.dx, partials);
      else
        dispatch_width<T, false, false>(plan, shape, params, d, need, x, gy, grads.dx, partials);
    }
  } else if (grads.dx) {
    std::fill(grads.dx, grads.dx + shape.batch * n, T(0));
  }
  reduce_into(grads.dt, heads * m, partials, &Partial<T>::dt);
  reduce_into(grads.du, heads * m, partials, &Partial<T>::du);
  reduce_into(grads.ds, heads * n, partials, &Partial<T>::ds);
  reduce_into(grads.dv, heads * n, partials, &Partial<T>::dv);
  for (std::int64_t h = 0; h < heads; ++h) {
    double dalpha = 0, domega = 0, dphi = 0;
    for (const Partial<T>& part : partials) {
      if (part.dalpha.empty()) continue;
      dalpha += part.dalpha[h];
      domega += part.domega[h];
      dphi += part.dphi[h];
    }
    if (grads.drho) grads.drho[h] = static_cast<T>(dalpha * laplex_sigmoid<double>(params.rho[h]));
    if (grads.domega) grads.domega[h] = shape.phased ? static_cast<T>(domega) : T(0);
    if (grads.dphi) grads.dphi[h] = shape.phased ? static_cast<T>(dphi) : T(0);
  }
}

template void laplex_backward(const LaplexPlan<float>&, const LaplexShape&,
                              const LaplexParamPtrs<float>&, const float*, const float*,
                              const LaplexGradPtrs<float>&);
template void laplex_backward(const LaplexPlan<double>&, const LaplexShape&,
                              const LaplexParamPtrs<double>&, const double*, const double*,
                              const LaplexGradPtrs<double>&);

}  // namespace laplex::cpu
