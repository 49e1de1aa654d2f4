#pragma once
// Scans of a tensor's values for the ones no parameter or optimizer state
// may hold: checkpoints and optimizer states are checked with these when
// loaded, so a damaged file is reported, not trained on.
#include <cstdint>

#include "core/tensor.h"

namespace laplex {

// The flat index (in row-major order) of the first NaN or infinity of a
// floating tensor, or -1 when every value is finite (always -1 for integer
// tensors). Reads the values on the host.
std::int64_t first_non_finite(const Tensor& t);

// The flat index of the first value below zero (or NaN), or -1.
std::int64_t first_negative(const Tensor& t);

}  // namespace laplex
