#include "core/ops/sort.h"

#include "core/autograd/node.h"
#include "core/ops/dispatch.h"
#include "core/ops/index.h"
#include "core/ops/sort_kernels.h"
#include "core/ops/view.h"

namespace laplex {

SortResult sort(const Tensor& x, std::int64_t dim, bool descending) {
  if (x.dim() == 0) {
    wrap_dim(dim, 1, "sort");
    SortResult one = sort(reshape(x, {1}), 0, descending);
    return {reshape(one.values, {}), reshape(one.indices, {})};
  }
  const std::int64_t d = wrap_dim(dim, x.dim(), "sort");
  const std::int64_t last = x.dim() - 1;
  // The kernels sort contiguous rows, so the sorted dim goes last.
  const Tensor input = (d == last ? x.detach() : transpose(x.detach(), d, last)).contiguous();
  const std::int64_t len = x.shape()[d];
  const std::int64_t rows = len == 0 ? 0 : x.numel() / len;
  Tensor values = Tensor::empty(input.shape(), x.dtype(), x.device());
  Tensor indices = Tensor::empty(input.shape(), DType::i64, x.device());
  if (x.numel() > 0) {
    if (use_cuda(x)) {
#if LAPLEX_WITH_CUDA
      cuda::sort_rows(input, rows, len, descending, values, indices);
#endif
    } else {
      cpu::sort_rows(input, rows, len, descending, values, indices);
    }
  }
  if (d != last) {
    values = transpose(values, d, last).contiguous();
    indices = transpose(indices, d, last).contiguous();
  }
  autograd::record(values, {x}, "sort",
                   [d, indices, shape = x.shape()](const std::vector<Tensor>& g) {
                     // indices is a permutation of each line, so every input
                     // element receives exactly one output's gradient.
                     const Tensor zeros = Tensor::zeros(shape, g[0].dtype(), g[0].device());
                     return std::vector<Tensor>{scatter_add(zeros, d, indices, g[0])};
                   });
  return {values, indices};
}

Tensor argsort(const Tensor& x, std::int64_t dim, bool descending) {
  return sort(x.detach(), dim, descending).indices;
}

}  // namespace laplex
