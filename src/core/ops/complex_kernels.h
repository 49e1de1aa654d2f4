#pragma once
// Backend entry points of the complex ops (no autograd). Operands are
// contiguous and read periodically: complex element i of `out` is
// a[i % period_a] * b[i % period_b], which covers an operand broadcast over
// leading dims without materialising it.
#include <cstdint>

#include "core/tensor.h"

namespace laplex {

namespace cpu {
void complex_mul(const Tensor& a, std::int64_t period_a, const Tensor& b, std::int64_t period_b,
                 const Tensor& out);
}  // namespace cpu

namespace cuda {
void complex_mul(const Tensor& a, std::int64_t period_a, const Tensor& b, std::int64_t period_b,
                 const Tensor& out);
}  // namespace cuda

}  // namespace laplex
