#include <algorithm>
#include <numeric>
#include <type_traits>

#include "core/ops/cpu/strided_loop.h"
#include "core/ops/sort_kernels.h"

namespace laplex::cpu {

namespace {

// A strict weak order even with NaN: a NaN of either sign counts as larger
// than every number, and NaNs are equal to each other (the CUDA sort gives
// the same order: sort_cuda.cu).
template <class T>
bool ascending(T a, T b) {
  if constexpr (std::is_floating_point_v<T>) {
    return a < b || (b != b && a == a);
  } else {
    return a < b;
  }
}

template <class T>
void sort_typed(const T* x, std::int64_t rows, std::int64_t len, bool descending, T* values,
                std::int64_t* indices) {
#pragma omp parallel for if (rows > 1 && rows * len >= kParallelGrain) schedule(dynamic, 1)
  for (std::int64_t r = 0; r < rows; ++r) {
    const T* row = x + r * len;
    std::int64_t* perm = indices + r * len;
    std::iota(perm, perm + len, std::int64_t{0});
    // stable_sort keeps equal keys in index order, matching CUB's radix sort.
    if (descending) {
      std::stable_sort(perm, perm + len,
                       [row](std::int64_t i, std::int64_t j) { return ascending(row[j], row[i]); });
    } else {
      std::stable_sort(perm, perm + len,
                       [row](std::int64_t i, std::int64_t j) { return ascending(row[i], row[j]); });
    }
    T* out = values + r * len;
    for (std::int64_t k = 0; k < len; ++k) out[k] = row[perm[k]];
  }
}

}  // namespace

void sort_rows(const Tensor& x, std::int64_t rows, std::int64_t len, bool descending,
               const Tensor& values, const Tensor& indices) {
  visit_dtype(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    sort_typed(x.data<T>(), rows, len, descending, values.data<T>(),
               indices.data<std::int64_t>());
  });
}

}  // namespace laplex::cpu
