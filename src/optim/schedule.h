#pragma once
// Learning-rate schedules as pure functions of the step: the factor that
// multiplies every group's base lr. Being stateless, a schedule resumes
// exactly from the saved step number alone.
#include <cstdint>
#include <string>

namespace laplex::optim {

struct Schedule {
  std::string kind = "constant";   // constant | step | cosine
  std::int64_t warmup_steps = 0;   // linear ramp from warmup_start to 1 first
  double warmup_start = 0.0;
  std::int64_t step_size = 1;      // step: multiply by gamma every step_size steps
  double gamma = 0.1;
  std::int64_t total_steps = 1;    // cosine: steps from the end of warmup to the floor
  double min_factor = 0.0;         // cosine: the floor

  // Factor for the update at `step` (0-based: the first update uses step 0).
  double factor(std::int64_t step) const;
  void validate() const;  // throws UsageError for impossible settings
};

}  // namespace laplex::optim
