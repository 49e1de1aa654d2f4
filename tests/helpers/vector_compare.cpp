#include "helpers/vector_compare.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace laplex::testing {

::testing::AssertionResult vectors_close(const std::string& what, const std::vector<double>& got,
                                         const std::vector<double>& want, double rtol,
                                         double atol) {
  if (got.size() != want.size())
    return ::testing::AssertionFailure()
           << what << ": " << got.size() << " values, expected " << want.size();
  double scale = 0, worst = 0;
  std::size_t at = 0;
  for (double w : want) scale = std::max(scale, std::fabs(w));
  for (std::size_t k = 0; k < got.size(); ++k) {
    const double err = std::fabs(got[k] - want[k]);
    if (!(err <= worst)) {
      worst = std::isfinite(err) ? err : INFINITY;
      at = k;
    }
  }
  if (worst <= atol + rtol * scale) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << what << "[" << at << "]: got " << got[at]
                                       << ", expected " << want[at] << " (max |want| " << scale
                                       << ")";
}

double relative_error(const std::vector<double>& got, const std::vector<double>& want) {
  if (got.size() != want.size()) return std::numeric_limits<double>::infinity();
  double diff = 0, norm = 0;
  for (std::size_t k = 0; k < got.size(); ++k) {
    diff += (got[k] - want[k]) * (got[k] - want[k]);
    norm += want[k] * want[k];
  }
  return std::sqrt(diff / norm);
}

}  // namespace laplex::testing
