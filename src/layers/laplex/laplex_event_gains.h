#pragma once
// The gain of every event of a LAPLEX plan, per head, in event order: v_j at
// a source event, u_i at a target event (1 where that gain is absent), so
// the scans read gains in event order like everything else. Built once per
// forward; the saved forward (laplex_cpu.h) hands its copy to the backward,
// the other backward builds its own. Empty when the call has no gains.
#include <cstdint>
#include <vector>

#include "layers/laplex/laplex_lanes.h"
#include "layers/laplex/laplex_plan.h"
#include "layers/laplex/laplex_shape.h"

namespace laplex::cpu {

template <class T>
std::vector<T> make_event_gains(const LaplexPlan<T>& plan, const LaplexShape& shape,
                                const LaplexParamPtrs<T>& p) {
  if (!p.has_gains()) return {};
  const std::int64_t events = plan.events();
  std::vector<T> gain(static_cast<std::size_t>(plan.heads * events));
  for (std::int64_t h = 0; h < plan.heads; ++h) {
    const T* u = p.u ? p.u + h * shape.m : nullptr;
    const T* v = p.v ? p.v + h * shape.n : nullptr;
    const std::int64_t off = h * events;
#pragma omp parallel for schedule(static) if (events > lanes::kParallelWork)
    for (std::int64_t k = off; k < off + events; ++k) {
      const std::uint32_t code = plan.code[k];
      const std::uint32_t index = code & ~kLaplexTargetBit;
      const T* g = (code & kLaplexTargetBit) ? u : v;
      gain[k] = g ? g[index] : T(1);
    }
  }
  return gain;
}

}  // namespace laplex::cpu
