#pragma once
// Pieces the two CPU backward paths share (internal to the laplex CPU
// kernels): which outputs were asked for, the per-event batch sums the
// sweeps leave, and the parameter gradients computed from them. The paths:
// laplex_cpu_backward.cpp gathers x again; laplex_cpu_backward_saved.cpp
// reads it from a saved forward.
#include <omp.h>

#include <algorithm>
#include <cstdint>
#include <type_traits>
#include <vector>

#include "layers/laplex/laplex_cpu.h"
#include "layers/laplex/laplex_event_gains.h"
#include "layers/laplex/laplex_lanes.h"

namespace laplex::cpu::backward {

// Which outputs were asked for.
struct Needs {
  bool dx = false, dt = false, ds = false, du = false, dv = false;
  bool drho = false, domega = false, dphi = false;
  bool left_right() const { return dt || du || drho || domega || dphi; }
  bool moments() const { return drho || domega; }
  bool transposed() const { return dx || ds || dv; }
};

// Per event sums over the batch of one sweep: the dot of the event's lanes
// with the state it reads (re, im), and with the moment (targets only).
// Columns not needed stay null.
template <class T>
struct EventSums {
  T *dot_re = nullptr, *dot_im = nullptr, *moment_re = nullptr, *moment_im = nullptr;
  // Carves the needed columns of `total` values from `base` (room for
  // kColumns) and clears them.
  static constexpr int kColumns = 4;
  void allocate(T* base, std::int64_t total, bool phased, bool moments) {
    T** columns[] = {&dot_re, &dot_im, &moment_re, &moment_im};
    const bool used[] = {true, phased, moments, phased && moments};
    for (int c = 0; c < kColumns; ++c) {
      *columns[c] = used[c] ? base + c * total : nullptr;
      if (used[c]) std::fill(base + c * total, base + (c + 1) * total, T(0));
    }
  }
};

// One thread's sums over its chunks, in the thread's kSums buffer of the
// plan's pool: fresh pages for them cost more than the clear.
template <class T>
struct Partial {
  EventSums<T> up, down;  // ascending and descending sweeps
  // The saved path needs the moments only summed over targets (for dalpha
  // and domega), so it keeps them per lane instead of per event: sum over
  // targets of u g L1 (re, im) and of u g R1, gains included, before the
  // rotation by phi.
  double moment_up_re = 0, moment_up_im = 0, moment_down_re = 0, moment_down_im = 0;
  static std::size_t bytes(std::int64_t total) {
    return 2 * EventSums<T>::kColumns * sizeof(T) * static_cast<std::size_t>(total);
  }
  void allocate(T* base, std::int64_t total, bool phased, bool moments) {
    up.allocate(base, total, phased, moments);
    down.allocate(base + EventSums<T>::kColumns * total, total, phased, moments);
    moment_up_re = moment_up_im = moment_down_re = moment_down_im = 0;
  }
};

// Calls f(phased, moments, gains) with each flag as a std::bool_constant:
// both backward paths instantiate their sweeps for all 8 combinations
// through this one switch.
template <class F>
void with_sweep_flags(bool phased, bool moments, bool gains, F&& f) {
  auto pick_gains = [&](auto p, auto m) {
    gains ? f(p, m, std::true_type{}) : f(p, m, std::false_type{});
  };
  auto pick_moments = [&](auto p) {
    moments ? pick_gains(p, std::true_type{}) : pick_gains(p, std::false_type{});
  };
  phased ? pick_moments(std::true_type{}) : pick_moments(std::false_type{});
}

// (a + i b) e^{i phi}
template <class T>
inline void rotate(const lanes::HeadConstants<T>& c, double a, double b, double& re, double& im) {
  re = c.cos_phi * a - c.sin_phi * b;
  im = c.sin_phi * a + c.cos_phi * b;
}

// sum over threads of one per-event column (absent columns count as zero).
template <class T>
double total(const std::vector<Partial<T>>& partials, T* EventSums<T>::*column, bool up,
             std::int64_t k) {
  double sum = 0;
  for (const Partial<T>& part : partials) {
    const T* values = (up ? part.up : part.down).*column;
    if (values) sum += values[k];
  }
  return sum;
}

// The parameter gradients of one head from the per-event sums:
// at a target, GL = sum_b g L (up), GR (down), GL1, GR1;
// at a source, XQ = sum_b x Q (up), XP (down). `parallel`: split the events
// over threads (one head: otherwise this pass ran on one core).
template <class T>
void head_gradients(const LaplexPlan<T>& plan, const LaplexShape& shape,
                    const LaplexParamPtrs<T>& p, const LaplexGradPtrs<T>& g,
                    const std::vector<Partial<T>>& partials, std::int64_t h, bool parallel) {
  const std::int64_t events = plan.events(), m = shape.m, n = shape.n;
  const lanes::HeadConstants<T> c = lanes::head_constants(shape, p, h);
  const double alpha = c.alpha, omega = c.omega;
  const bool event_moments = !partials.empty() && partials[0].up.moment_re != nullptr;
  double dalpha = 0, domega = 0, dphi = 0;
  using S = EventSums<T>;
  // Without per-event moments, and when each pair of outputs (dt and ds,
  // du and dv, gains u and v) is asked for or given together, a
  // branch-free pass: targets and sources interleave at random, and a
  // mispredicted branch per event cost more than its arithmetic. The event
  // writes its own entry of dt or ds (du or dv), picked by index.
  const bool pairs = (g.dt == nullptr) == (g.ds == nullptr) &&
                     (g.du == nullptr) == (g.dv == nullptr) && (p.u == nullptr) == (p.v == nullptr);
  if (!event_moments && pairs) {
    T* const position[2] = {g.ds ? g.ds + h * n : nullptr, g.dt ? g.dt + h * m : nullptr};
    T* const gain_grad[2] = {g.dv ? g.dv + h * n : nullptr, g.du ? g.du + h * m : nullptr};
    const T* const gains[2] = {p.v ? p.v + h * n : nullptr, p.u ? p.u + h * m : nullptr};
    const bool with_gains = p.u != nullptr, want_position = g.dt != nullptr,
               want_gain = g.du != nullptr;
#pragma omp parallel for schedule(static) reduction(+ : dphi) \
    if (parallel && events > lanes::kParallelEventPass)
    for (std::int64_t e = 0; e < events; ++e) {
      const std::int64_t k = h * events + e;
      const std::uint32_t code = plan.code[k];
      const std::int64_t index = code & ~kLaplexTargetBit;
      const std::uint32_t target = code >> 31;
      double ur, ui, dr, di;  // e^{i phi} times the up and down dots
      rotate(c, total(partials, &S::dot_re, true, k), total(partials, &S::dot_im, true, k), ur, ui);
      rotate(c, total(partials, &S::dot_re, false, k), total(partials, &S::dot_im, false, k), dr,
             di);
      const double gain = with_gains ? gains[target][index] : 1.0;
      // ds: -v Re[e^{i phi} (conj(lam) XQ - lam XP)]; dt: Re[e^{i phi} (-lam GL + conj(lam) GR)]
      const double value[2] = {-gain * (alpha * ur - omega * ui - alpha * dr - omega * di),
                               gain * (-alpha * ur - omega * ui + alpha * dr - omega * di)};
      if (want_position) position[target][index] = static_cast<T>(value[target]);
      if (want_gain) gain_grad[target][index] = static_cast<T>(ur + dr);
      dphi -= static_cast<double>(target) * gain * (ui + di);
    }
  } else {
#pragma omp parallel for schedule(static) reduction(+ : dalpha, domega, dphi) \
    if (parallel && events > lanes::kParallelEventPass)
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
        if (event_moments) {
          double m_ur, m_ui, m_dr, m_di;
          rotate(c, total(partials, &S::moment_re, true, k),
                 total(partials, &S::moment_im, true, k), m_ur, m_ui);
          rotate(c, total(partials, &S::moment_re, false, k),
                 total(partials, &S::moment_im, false, k), m_dr, m_di);
          dalpha -= gain * (m_ur + m_dr);
          domega -= gain * (m_ui - m_di);
        }
      } else {
        const double gain = p.v ? p.v[h * n + index] : T(1);
        if (g.dv) g.dv[h * n + index] = static_cast<T>(ur + dr);
        // -v Re[e^{i phi} (conj(lam) XQ - lam XP)]
        if (g.ds)
          g.ds[h * n + index] =
              static_cast<T>(-gain * (alpha * ur - omega * ui - alpha * dr - omega * di));
      }
    }
  }
  if (!event_moments) {
    double up_re = 0, up_im = 0, down_re = 0, down_im = 0;
    for (const Partial<T>& part : partials) {
      up_re += part.moment_up_re;
      up_im += part.moment_up_im;
      down_re += part.moment_down_re;
      down_im += part.moment_down_im;
    }
    double m_ur, m_ui, m_dr, m_di;
    rotate(c, up_re, up_im, m_ur, m_ui);
    rotate(c, down_re, down_im, m_dr, m_di);
    dalpha -= m_ur + m_dr;
    domega -= m_ui - m_di;
  }
  if (g.drho) g.drho[h] = static_cast<T>(dalpha * laplex_sigmoid<double>(p.rho[h]));
  if (g.domega) g.domega[h] = shape.phased ? static_cast<T>(domega) : T(0);
  if (g.dphi) g.dphi[h] = shape.phased ? static_cast<T>(dphi) : T(0);
}

// The sweeps of a one-head backward that reads x from `saved` (made by the
// forward of the same plan with `width` lanes a chunk): fills `partials`
// and, when `dx` is not null, dx. Consumes the saved rows: g overwrites
// the targets' rows.
template <class T>
void sweeps_from_saved(const LaplexPlan<T>& plan, const LaplexShape& shape,
                       const LaplexParamPtrs<T>& p, const lanes::Decays<T>& d,
                       const std::vector<T>& gains, const Needs& need, LaplexSaved<T>& saved,
                       const T* gy, T* dx, std::vector<Partial<T>>& partials,
                       lanes::ThreadScratch& scratch);

}  // namespace laplex::cpu::backward
