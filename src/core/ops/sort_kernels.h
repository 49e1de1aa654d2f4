#pragma once
// Backend entry points of sort: a contiguous x viewed as (rows, len) is
// sorted row by row into contiguous values (x's dtype) and indices (int64,
// positions within the row). Stable on both backends.
#include <cstdint>

#include "core/tensor.h"

namespace laplex {

namespace cpu {
void sort_rows(const Tensor& x, std::int64_t rows, std::int64_t len, bool descending,
               const Tensor& values, const Tensor& indices);
}  // namespace cpu

namespace cuda {
void sort_rows(const Tensor& x, std::int64_t rows, std::int64_t len, bool descending,
               const Tensor& values, const Tensor& indices);
}  // namespace cuda

}  // namespace laplex
