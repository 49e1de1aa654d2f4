// The backward of laplex-math.md section 3 as two fused sweeps per head and
// batch chunk. The ascending sweep carries L (lam), its first moment L1 and
// Q (conj lam); the descending sweep carries R (conj lam), R1 and P (lam).
// Targets hold g, sources hold x, side by side in one lane buffer; sources
// feed L/R with v x, targets feed P/Q with u g; sources add v Re[e^{i phi}
// (P + Q)] to their dx lanes.
//
// The sweeps are branch-free (targets and sources interleave at random):
// each event dots its lanes with the state its kind reads (L at a target,
// Q at a source; plus L1 at targets) and stores the sums per event. The
// parameter gradients come afterwards from those per-event sums, summed over
// chunks first, in one pass over the events. Nothing of the forward is stored.
#include <omp.h>

#include "layers/laplex/laplex_cpu.h"
#include "layers/laplex/laplex_lanes.h"

namespace laplex::cpu {

namespace {

using lanes::Decays;
using lanes::HeadConstants;

// Events between a prefetch and its use.
constexpr std::int64_t kPrefetchDistance = 16;

// Which outputs were asked for.
struct Needs {
  bool dx = false, dt = false, ds = false, du = false, dv = false;
  bool drho = false, domega = false, dphi = false;
  bool left_right() const { return dt || du || drho || domega || dphi; }
  bool moments() const { return drho || domega; }
  bool transposed() const { return dx || ds || dv; }
};

// Per head, per event: the lane slot and coefficients that are zero for the
// other kind of event. The dx lanes share the slots: a target adds zeros to
// a dx row nobody reads (one shared dummy row would chain every target's
// update to the previous one through memory: 2.8x slower measured).
template <class T>
struct EventTable {
  std::vector<std::uint32_t> slot;
  std::vector<T> is_target;  // 1 or 0: picks which state an event's dot reads
  std::vector<T> v_coef;     // v_j at sources (feeds L/R)
  std::vector<T> u_coef;     // u_i at targets (feeds P/Q)
  std::vector<T> dx_re, dx_im;  // v_j e^{i phi} at sources
};

template <class T>
EventTable<T> make_table(const LaplexPlan<T>& plan, const LaplexShape& shape,
                         const LaplexParamPtrs<T>& p) {
  const std::int64_t events = plan.events(), total = plan.heads * events;
  EventTable<T> table;
  table.slot.resize(total);
  for (auto* column : {&table.is_target, &table.v_coef, &table.u_coef, &table.dx_re})
    column->resize(total);
  if (shape.phased) table.dx_im.resize(total);
  for (std::int64_t h = 0; h < plan.heads; ++h) {
    const HeadConstants<T> c = lanes::head_constants(shape, p, h);
    const T* u = p.u ? p.u + h * shape.m : nullptr;
    const T* v = p.v ? p.v + h * shape.n : nullptr;
    const std::int64_t off = h * events;
#pragma omp parallel for schedule(static) if (events > lanes::kParallelWork)
    for (std::int64_t k = off; k < off + events; ++k) {
      const std::uint32_t code = plan.code[k];
      const std::uint32_t index = code & ~kLaplexTargetBit;
      if (code & kLaplexTargetBit) {
        table.slot[k] = static_cast<std::uint32_t>(shape.n) + index;
        table.is_target[k] = T(1);
        table.v_coef[k] = T(0);
        table.u_coef[k] = u ? u[index] : T(1);
        table.dx_re[k] = T(0);
        if (shape.phased) table.dx_im[k] = T(0);
      } else {
        const T vj = v ? v[index] : T(1);
        table.slot[k] = index;
        table.is_target[k] = T(0);
        table.v_coef[k] = vj;
        table.u_coef[k] = T(0);
        table.dx_re[k] = vj * c.cos_phi;
        if (shape.phased) table.dx_im[k] = vj * c.sin_phi;
      }
    }
  }
  return table;
}

// Per event sums over the batch of one sweep: the dot of the event's lanes
// with the state it reads (re, im), and with the moment (targets only).
template <class T>
struct EventSums {
  std::vector<T> dot_re, dot_im, moment_re, moment_im;
  void allocate(std::int64_t total, bool phased, bool moments) {
    dot_re.assign(total, T(0));
    if (phased) dot_im.assign(total, T(0));
    if (moments) moment_re.assign(total, T(0));
    if (phased && moments) moment_im.assign(total, T(0));
  }
};

template <class T, int W>
[[gnu::always_inline]] inline T dot(const T* a, const T* b) {
  T sum = 0;
#pragma omp simd reduction(+ : sum)
  for (int l = 0; l < W; ++l) sum += a[l] * b[l];
  return sum;
}

// What one sweep of one head over one chunk reads.
template <class T>
struct SweepInput {
  const EventTable<T>* table;
  const Decays<T>* decays;
  std::int64_t off, events;
  bool dx;
};

// One sweep. Ascending: decay (L, L1 with lam; Q with conj lam), then the
// event. Descending: the event, then decay (R, R1 with conj lam; P with lam).
template <class T, int W, bool Phased, bool Moments, bool Ascending>
void sweep(const SweepInput<T>& in, const T* lanes, T* dx_lanes, EventSums<T>& sums) {
  const EventTable<T>& tb = *in.table;
  const Decays<T>& d = *in.decays;
  const std::int64_t off = in.off;
  const std::uint32_t* slot = tb.slot.data() + off;
  const T* is_target = tb.is_target.data() + off;
  const T* v_coef = tb.v_coef.data() + off;
  const T* u_coef = tb.u_coef.data() + off;
  const T* dx_re = tb.dx_re.data() + off;
  const T* dx_im = Phased ? tb.dx_im.data() + off : nullptr;
  const T* er = d.re.data() + off;
  const T* ei = Phased ? d.im.data() + off : nullptr;
  const T* mr = Moments ? d.moment_re.data() + off : nullptr;
  const T* mi = Phased && Moments ? d.moment_im.data() + off : nullptr;
  T* out_dot_re = sums.dot_re.data() + off;
  T* out_dot_im = Phased ? sums.dot_im.data() + off : nullptr;
  T* out_m_re = Moments ? sums.moment_re.data() + off : nullptr;
  T* out_m_im = Phased && Moments ? sums.moment_im.data() + off : nullptr;
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

  auto event = [&](std::int64_t k) {
    const T* value = lanes + static_cast<std::int64_t>(slot[k]) * W;
    const T pick = is_target[k], a = v_coef[k], b = u_coef[k];
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
    if (in.dx) {
      T* dx = dx_lanes + static_cast<std::int64_t>(slot[k]) * W;
      const T cr = dx_re[k];
      if constexpr (Phased) {
        const T ci = dx_im[k];
#pragma omp simd
        for (int l = 0; l < W; ++l) dx[l] += cr * qr[l] - ci * qi[l];
      } else {
#pragma omp simd
        for (int l = 0; l < W; ++l) dx[l] += cr * qr[l];
      }
    }
#pragma omp simd
    for (int l = 0; l < W; ++l) {
      sr[l] += a * value[l];
      qr[l] += b * value[l];
    }
  };

  auto prefetch = [&](std::int64_t k) {
    __builtin_prefetch(lanes + static_cast<std::int64_t>(slot[k]) * W);
    if (in.dx) __builtin_prefetch(dx_lanes + static_cast<std::int64_t>(slot[k]) * W, 1);
  };
  const std::int64_t events = in.events;
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

// One thread's sums over its chunks.
template <class T>
struct Partial {
  EventSums<T> up, down;  // ascending and descending sweeps
};

template <class T, int W, bool Phased, bool Moments>
void backward_batch(const LaplexPlan<T>& plan, const LaplexShape& shape, const Decays<T>& d,
                    const EventTable<T>& table, bool want_dx, const T* x, const T* gy, T* dx,
                    std::vector<Partial<T>>& partials) {
  const std::int64_t batch = shape.batch, m = shape.m, n = shape.n, events = plan.events();
  const std::int64_t chunks = (batch + W - 1) / W;
#pragma omp parallel if (chunks > 1 && (m + n) * batch > lanes::kParallelWork)
  {
    Partial<T>& part = partials[omp_get_thread_num()];
    part.up.allocate(plan.heads * events, Phased, Moments);
    part.down.allocate(plan.heads * events, Phased, Moments);
    lanes::Scratch<T> buffer(events * W), dx_buffer(want_dx ? events * W : 0);
    T* lanes = buffer.get();
#pragma omp for schedule(static)
    for (std::int64_t chunk = 0; chunk < chunks; ++chunk) {
      const std::int64_t b0 = chunk * W;
      lanes::load<T, W>(x, batch, n, b0, lanes);
      lanes::load<T, W>(gy, batch, m, b0, lanes + n * W);
      // Only the sources' rows are read back; the targets' rows take zeros.
      if (want_dx) std::fill(dx_buffer.get(), dx_buffer.get() + n * W, T(0));
      for (std::int64_t h = 0; h < plan.heads; ++h) {
        const SweepInput<T> in{&table, &d, h * events, events, want_dx};
        sweep<T, W, Phased, Moments, true>(in, lanes, dx_buffer.get(), part.up);
        sweep<T, W, Phased, Moments, false>(in, lanes, dx_buffer.get(), part.down);
      }
      if (want_dx) lanes::store<T, W>(dx_buffer.get(), batch, n, b0, dx);
    }
  }
}

template <class T, bool Phased, bool Moments>
void dispatch_width(const LaplexPlan<T>& plan, const LaplexShape& shape, const Decays<T>& d,
                    const EventTable<T>& table, bool want_dx, const T* x, const T* gy, T* dx,
                    std::vector<Partial<T>>& partials) {
  // x and g lanes, and dx lanes.
  const std::int64_t values_per_lane = 2 * (shape.m + shape.n);
  // Measured at n = 2^16, B = 64: the backward's sweeps gain little from a
  // cache-sized chunk and lose on the per-event dots at narrow widths, so
  // they take the widest chunk the batch allows.
  switch (lanes::choose_width(shape.batch, omp_get_max_threads(), values_per_lane, sizeof(T),
                              lanes::kWidths[0])) {
    case 16:
      return backward_batch<T, 16, Phased, Moments>(plan, shape, d, table, want_dx, x, gy, dx,
                                                    partials);
    case 8:
      return backward_batch<T, 8, Phased, Moments>(plan, shape, d, table, want_dx, x, gy, dx,
                                                   partials);
    case 4:
      return backward_batch<T, 4, Phased, Moments>(plan, shape, d, table, want_dx, x, gy, dx,
                                                   partials);
    default:
      return backward_batch<T, 1, Phased, Moments>(plan, shape, d, table, want_dx, x, gy, dx,
                                                   partials);
  }
}

// (a + i b) e^{i phi}
template <class T>
inline void rotate(const HeadConstants<T>& c, double a, double b, double& re, double& im) {
  re = c.cos_phi * a - c.sin_phi * b;
  im = c.sin_phi * a + c.cos_phi * b;
}

// sum over threads of one per-event column (absent columns count as zero).
template <class T>
double total(const std::vector<Partial<T>>& partials, std::vector<T> EventSums<T>::*column,
             bool up, std::int64_t k) {
  double sum = 0;
  for (const Partial<T>& part : partials) {
    const std::vector<T>& values = (up ? part.up : part.down).*column;
    if (!values.empty()) sum += values[k];
  }
  return sum;
}

// The parameter gradients of one head from the per-event sums:
// at a target, GL = sum_b g L (up), GR (down), GL1, GR1;
// at a source, XQ = sum_b x Q (up), XP (down).
template <class T>
void head_gradients(const LaplexPlan<T>& plan, const LaplexShape& shape,
                    const LaplexParamPtrs<T>& p, const LaplexGradPtrs<T>& g,
                    const std::vector<Partial<T>>& partials, std::int64_t h) {
  const std::int64_t events = plan.events(), m = shape.m, n = shape.n;
  const HeadConstants<T> c = lanes::head_constants(shape, p, h);
  const double alpha = c.alpha, omega = c.omega;
  double dalpha = 0, domega = 0, dphi = 0;
  using S = EventSums<T>;
  for (std::int64_t e = 0; e < events; ++e) {
    const std::int64_t k = h * events + e;
    const std::uint32_t code = plan.code[k];
    const std::int64_t index = code & ~kLaplexTargetBit;
    double ur, ui, dr, di;  // e^{i phi} times the up and down dots
    rotate(c, total(partials, &S::dot_re, true, k), total(partials, &S::dot_im, true, k), ur, ui);
    rotate(c, total(partials, &S::dot_re, false, k), total(partials, &S::dot_im, false, k), dr,
           di);
    if (code & kLaplexTargetBit) {
      const double gain = p.u ? p.u[h * m + index] : T(1);
      if (g.du) g.du[h * m + index] = static_cast<T>(ur + dr);
      // Re[e^{i phi} (-lam GL + conj(lam) GR)]
      if (g.dt)
        g.dt[h * m + index] =
            static_cast<T>(gain * (-alpha * ur - omega * ui + alpha * dr - omega * di));
      dphi -= gain * (ui + di);
      double m_ur, m_ui, m_dr, m_di;
      rotate(c, total(partials, &S::moment_re, true, k), total(partials, &S::moment_im, true, k),
             m_ur, m_ui);
      rotate(c, total(partials, &S::moment_re, false, k),
             total(partials, &S::moment_im, false, k), m_dr, m_di);
      dalpha -= gain * (m_ur + m_dr);
      domega -= gain * (m_ui - m_di);
    } else {
      const double gain = p.v ? p.v[h * n + index] : T(1);
      if (g.dv) g.dv[h * n + index] = static_cast<T>(ur + dr);
      // -v Re[e^{i phi} (conj(lam) XQ - lam XP)]
      if (g.ds)
        g.ds[h * n + index] =
            static_cast<T>(-gain * (alpha * ur - omega * ui - alpha * dr - omega * di));
    }
  }
  if (g.drho) g.drho[h] = static_cast<T>(dalpha * laplex_sigmoid<double>(p.rho[h]));
  if (g.domega) g.domega[h] = shape.phased ? static_cast<T>(domega) : T(0);
  if (g.dphi) g.dphi[h] = shape.phased ? static_cast<T>(dphi) : T(0);
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
    const EventTable<T> table = make_table(plan, shape, params);
    const bool moments = need.moments();
    if (shape.phased) {
      if (moments)
        dispatch_width<T, true, true>(plan, shape, d, table, need.dx, x, gy, grads.dx, partials);
      else
        dispatch_width<T, true, false>(plan, shape, d, table, need.dx, x, gy, grads.dx, partials);
    } else {
      if (moments)
        dispatch_width<T, false, true>(plan, shape, d, table, need.dx, x, gy, grads.dx, partials);
      else
        dispatch_width<T, false, false>(plan, shape, d, table, need.dx, x, gy, grads.dx,
                                        partials);
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
  for (std::int64_t h = 0; h < heads; ++h) head_gradients(plan, shape, params, grads, partials, h);
}

template void laplex_backward(const LaplexPlan<float>&, const LaplexShape&,
                              const LaplexParamPtrs<float>&, const float*, const float*,
                              const LaplexGradPtrs<float>&);
template void laplex_backward(const LaplexPlan<double>&, const LaplexShape&,
                              const LaplexParamPtrs<double>&, const double*, const double*,
                              const LaplexGradPtrs<double>&);

}  // namespace laplex::cpu
