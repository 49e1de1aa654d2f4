#include <algorithm>
#include <limits>
#include <string>

#include "core/ops/cpu/strided_loop.h"
#include "core/ops/index_kernels.h"

namespace laplex::cpu {

namespace {


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

namespace {

// dim is the last dim: each row of for_each_row is whole lines along dim
// (collapsing only joins rows, and RowSplit::whole_rows keeps them uncut),
// and two rows differ in a coordinate the output keeps, so they never write
// the same element and can go to different threads. The row's own out step
// is 0 along dim but not when dim had size 1 and collapsing dropped it.
template <class T, class I>
void scatter_add_along_last(T* o, const Tensor& out, std::int64_t dim, const I* ix,
                            const Tensor& index, const T* s, const Tensor& src) {
  const Strides out_strides = without_dim(out.strides(), dim);
  const std::int64_t out_step = out.strides()[dim];
  for_each_row<3>(index.shape(), {&out_strides, &index.strides(), &src.strides()},
                  [&](auto offsets, std::int64_t count, auto steps) {
                    for (std::int64_t k = 0; k < count; ++k) {
                      const std::int64_t i = ix[offsets[1] + k * steps[1]];
                      o[offsets[0] + k * steps[0] + i * out_step] += s[offsets[2] + k * steps[2]];
                    }
                  },
                  RowSplit::whole_rows);
}

// dim is not the last dim (the embedding-gradient case: rows scattered along
// dim 0). Each task owns a block of the last dim for one choice of the other
// coordinates and walks the whole of dim, so tasks never collide, and the
// inner loop runs along the last dim, usually contiguous.
template <class T, class I>
void scatter_add_blocked(T* o, const Tensor& out, std::int64_t dim, const I* ix,
                         const Tensor& index, const T* s, const Tensor& src) {
  constexpr std::int64_t kWidth = 64;
  const Shape& shape = index.shape();
  const std::int64_t rank = index.dim(), last = rank - 1;
  const Strides &os = out.strides(), &is = index.strides(), &ss = src.strides();
  const std::int64_t len = shape[dim], width = shape[last];
  const std::int64_t blocks = (width + kWidth - 1) / kWidth;
  std::int64_t lines = 1;
  for (std::int64_t k = 0; k < last; ++k)
    if (k != dim) lines *= shape[k];
  const std::int64_t tasks = lines * blocks;
#pragma omp parallel for if (index.numel() >= kParallelGrain && tasks > 1) schedule(static)
  for (std::int64_t t = 0; t < tasks; ++t) {
    const std::int64_t c0 = (t % blocks) * kWidth, c1 = std::min(width, c0 + kWidth);
    std::int64_t rest = t / blocks, oo = 0, io = 0, so = 0;
    for (std::int64_t k = last - 1; k >= 0; --k) {
      if (k == dim) continue;
      const std::int64_t c = rest % shape[k];
      rest /= shape[k];
      oo += c * os[k];
      io += c * is[k];
      so += c * ss[k];
    }
    for (std::int64_t j = 0; j < len; ++j) {
      const I* irow = ix + io + j * is[dim];
      const T* srow = s + so + j * ss[dim];
      for (std::int64_t c = c0; c < c1; ++c)
        o[oo + irow[c * is[last]] * os[dim] + c * os[last]] += srow[c * ss[last]];
    }
  }
}

}  // namespace

void scatter_add(const Tensor& out, std::int64_t dim, const Tensor& index, const Tensor& src) {
  visit_floating(out.dtype(), "scatter_add", [&](auto tag) {
    using T = decltype(tag);
    visit_index(index.dtype(), "scatter_add", [&](auto index_tag) {
      using I = decltype(index_tag);
      if (dim == index.dim() - 1) {
        scatter_add_along_last(out.data<T>(), out, dim, index.data<I>(), index, src.data<T>(),
                               src);
      } else {
        scatter_add_blocked(out.data<T>(), out, dim, index.data<I>(), index, src.data<T>(), src);
      }
    });
  });
}

}  // namespace laplex::cpu
