#include "optim/schedule.h"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "core/error.h"

namespace laplex::optim {

double Schedule::factor(std::int64_t step) const {
  if (step < warmup_steps)
    return warmup_start + (1.0 - warmup_start) * static_cast<double>(step) /
                              static_cast<double>(warmup_steps);
  const std::int64_t t = step - warmup_steps;
  if (kind == "step") return std::pow(gamma, static_cast<double>(t / step_size));
  if (kind == "cosine") {
    const double progress = std::min(1.0, static_cast<double>(t) / static_cast<double>(total_steps));
    return min_factor + (1.0 - min_factor) * 0.5 * (1.0 + std::cos(std::numbers::pi * progress));
  }
  return 1.0;
}

void Schedule::validate() const {
  if (kind != "constant" && kind != "step" && kind != "cosine")
    throw UsageError("schedule: unknown kind '" + kind + "' (expected constant, step or cosine)");
  if (warmup_steps < 0) throw UsageError("schedule: warmup_steps must be >= 0");
  if (step_size < 1) throw UsageError("schedule: step_size must be >= 1");
  if (total_steps < 1) throw UsageError("schedule: total_steps must be >= 1");
}

}  // namespace laplex::optim
