#include <algorithm>
#include <limits>
#include <numeric>
#include <string>

#include "core/ops/cpu/strided_loop.h"
#include "core/ops/index_kernels.h"

namespace laplex::cpu {

namespace {

template <class Fn>
void visit_index(DType dtype, const char* op, Fn&& fn) {
  if (dtype == DType::i64) return fn(std::int64_t{});
  if (dtype == DType::i32) return fn(std::int32_t{});
  throw Error(std::string(op) + ": index must be int64 or int32, got " + dtype_name(dtype));
}

// The strides of `strides` with the one along dim zeroed: the kernels add
// index * stride for that dim themselves.
Strides without_dim(Strides strides, std::int64_t dim) {
  strides[dim] = 0;
  return strides;
}

// `v` with entry `dim` moved to the end.
template <class V>
V dim_last(V v, std::int64_t dim) {
  std::rotate(v.begin() + dim, v.begin() + dim + 1, v.end());
  return v;
}

}  // namespace

void check_index_range(const Tensor& index, std::int64_t size, const char* op) {
  if (index.numel() == 0) return;
  const Tensor dense = index.contiguous();
  visit_index(index.dtype(), op, [&](auto tag) {
    using I = decltype(tag);
    const I* ix = dense.data<I>();
    const std::int64_t n = dense.numel();
    std::int64_t lo = std::numeric_limits<std::int64_t>::max();
    std::int64_t hi = std::numeric_limits<std::int64_t>::min();
#pragma omp parallel for reduction(min : lo) reduction(max : hi) if (n >= kParallelGrain)
    for (std::int64_t k = 0; k < n; ++k) {
      lo = std::min<std::int64_t>(lo, ix[k]);
      hi = std::max<std::int64_t>(hi, ix[k]);
    }
    // Exceptions cannot leave an OpenMP region, hence the separate pass.
    if (lo < 0 || hi >= size)
      throw Error(std::string(op) + ": index " + std::to_string(lo < 0 ? lo : hi) +
                  " is out of range for a dim of size " + std::to_string(size));
  });
}

void gather(const Tensor& x, std::int64_t dim, const Tensor& index, const Tensor& out) {
  const Strides x_strides = without_dim(x.strides(), dim);
  const std::int64_t x_step = x.strides()[dim];
  visit_dtype(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    visit_index(index.dtype(), "gather", [&](auto index_tag) {
      using I = decltype(index_tag);
      const T* in = x.data<T>();
      const I* ix = index.data<I>();
      T* o = out.data<T>();
      for_each_row<3>(index.shape(), {&out.strides(), &index.strides(), &x_strides},
                      [&](auto offsets, std::int64_t count, auto steps) {
                        for (std::int64_t k = 0; k < count; ++k) {
                          const std::int64_t i = ix[offsets[1] + k * steps[1]];
                          o[offsets[0] + k * steps[0]] = in[offsets[2] + k * steps[2] + i * x_step];
                        }
                      });
    });
  });
}

void scatter_add(const Tensor& out, std::int64_t dim, const Tensor& index, const Tensor& src) {
  // Rows run along dim, so each row owns the output elements it writes:
  // two rows differ in a coordinate other than dim, which the output keeps.
  // for_each_row may then hand rows to different threads without races.
  const Shape shape = dim_last(index.shape(), dim);
  const Strides out_strides = dim_last(without_dim(out.strides(), dim), dim);
  const Strides index_strides = dim_last(index.strides(), dim);
  const Strides src_strides = dim_last(src.strides(), dim);
  const std::int64_t out_step = out.strides()[dim];
  visit_floating(out.dtype(), "scatter_add", [&](auto tag) {
    using T = decltype(tag);
    visit_index(index.dtype(), "scatter_add", [&](auto index_tag) {
      using I = decltype(index_tag);
      T* o = out.data<T>();
      const I* ix = index.data<I>();
      const T* s = src.data<T>();
      for_each_row<3>(shape, {&out_strides, &index_strides, &src_strides},
                      [&](auto offsets, std::int64_t count, auto steps) {
                        for (std::int64_t k = 0; k < count; ++k) {
                          const std::int64_t i = ix[offsets[1] + k * steps[1]];
                          o[offsets[0] + i * out_step] += s[offsets[2] + k * steps[2]];
                        }
                      });
    });
  });
}

}  // namespace laplex::cpu
