#include "core/ops/reduce.h"

#include <algorithm>

#include "core/autograd/node.h"
#include "core/ops/dispatch.h"
#include "core/ops/elementwise.h"
#include "core/ops/reduce_kernels.h"
#include "core/ops/view.h"

namespace laplex {

using autograd::record;

namespace {

// The input made contiguous as (outer, R, inner), and the output shapes.
struct Plan {
  Tensor input;
  ReduceGeometry geometry;
  Shape out_shape;      // without keepdim
  Shape keep_shape;     // with keepdim
};

Plan plan_reduction(const Tensor& x, std::vector<std::int64_t> dims, const char* op) {
  const std::int64_t rank = x.dim();
  if (dims.empty())
    for (std::int64_t d = 0; d < rank; ++d) dims.push_back(d);
  for (auto& d : dims) d = wrap_dim(d, rank, op);
  std::sort(dims.begin(), dims.end());
  dims.erase(std::unique(dims.begin(), dims.end()), dims.end());

  Plan plan;
  std::vector<bool> reduced(rank, false);
  for (auto d : dims) reduced[d] = true;
  for (std::int64_t d = 0; d < rank; ++d) {
    plan.keep_shape.push_back(reduced[d] ? 1 : x.shape()[d]);
    if (!reduced[d]) plan.out_shape.push_back(x.shape()[d]);
  }
  const bool consecutive = dims.empty() || dims.back() - dims.front() + 1 ==
                                               static_cast<std::int64_t>(dims.size());
  if (consecutive) {
    plan.input = x.contiguous();
    for (std::int64_t d = 0; d < rank; ++d) {
      if (!dims.empty() && d < dims.front()) plan.geometry.outer *= x.shape()[d];
      else if (reduced[d]) plan.geometry.reduced *= x.shape()[d];
      else plan.geometry.inner *= x.shape()[d];
    }
  } else {
    std::vector<std::int64_t> order;
    for (std::int64_t d = 0; d < rank; ++d)
      if (!reduced[d]) order.push_back(d);
    for (auto d : dims) order.push_back(d);
    plan.input = permute(x.detach(), order).contiguous();
    for (std::int64_t d = 0; d < rank; ++d)
      (reduced[d] ? plan.geometry.reduced : plan.geometry.outer) *= x.shape()[d];
  }
  return plan;
}

Tensor run_reduce(ReduceOp op, const Plan& plan, const Tensor& index) {
  Tensor out = Tensor::empty(plan.out_shape, plan.input.dtype(), plan.input.device());
  if (use_cuda(plan.input)) {
#if LAPLEX_WITH_CUDA
    cuda::reduce(op, plan.input, plan.geometry, out, index);
#endif
  } else {
    cpu::reduce(op, plan.input, plan.geometry, out, index);
  }
  return out;
}

}  // namespace

Tensor sum(const Tensor& x, const std::vector<std::int64_t>& dims, bool keepdim) {
  const Plan plan = plan_reduction(x.detach(), dims, "sum");
  Tensor out = run_reduce(ReduceOp::sum, plan, Tensor());
  if (keepdim) out = make_view(out, plan.keep_shape, contiguous_strides(plan.keep_shape), 0);
  record(out, {x}, "sum",
         [in_shape = x.shape(), keep = plan.keep_shape](const std::vector<Tensor>& g) {
           return std::vector<Tensor>{expand(reshape(g[0], keep), in_shape)};
         });
  return out;
}

Tensor mean(const Tensor& x, const std::vector<std::int64_t>& dims, bool keepdim) {
  const Plan plan = plan_reduction(x.detach(), dims, "mean");
  const std::int64_t count = plan.geometry.reduced;
  return mul(sum(x, dims, keepdim), 1.0 / static_cast<double>(std::max<std::int64_t>(count, 1)));
}

namespace {

// max along dim with the index of the first maximum.
std::pair<Tensor, Tensor> max_with_index(const Tensor& x, std::int64_t dim, bool keepdim) {
  const Plan plan = plan_reduction(x.detach(), {dim}, "max");
  Tensor index = Tensor::empty(plan.out_shape, DType::i64, x.device());
  Tensor values = run_reduce(ReduceOp::max, plan, index);
  if (keepdim) {
    values = make_view(values, plan.keep_shape, contiguous_strides(plan.keep_shape), 0);
    index = make_view(index, plan.keep_shape, contiguous_strides(plan.keep_shape), 0);
  }
  return {values, index};
}

}  // namespace

Tensor max(const Tensor& x, std::int64_t dim, bool keepdim) {
  auto [values, index] = max_with_index(x, dim, keepdim);
  const std::int64_t d = wrap_dim(dim, x.dim(), "max");
  record(values, {x}, "max",
         [index = index, d, in_shape = x.shape(), keepdim](const std::vector<Tensor>& g) {
           // One-hot of the argmax along d, times the incoming gradient.
           Shape keep = in_shape;
           keep[d] = 1;
           const Tensor idx = reshape(index, keep);
           Tensor positions = Tensor::arange(in_shape[d], DType::i64, idx.device());
           Shape pos_shape(in_shape.size(), 1);
           pos_shape[d] = in_shape[d];
           positions = reshape(positions, pos_shape);
           const Tensor hit = eq(positions.to(g[0].dtype()), idx.to(g[0].dtype()));
           return std::vector<Tensor>{mul(hit, reshape(g[0], keep))};
         });
  return values;
}

Tensor max(const Tensor& x) { return max(reshape(x, {-1}), 0, false); }

Tensor argmax(const Tensor& x, std::int64_t dim, bool keepdim) {
  return max_with_index(x.detach(), dim, keepdim).second;
}

Tensor cumsum(const Tensor& x, std::int64_t dim) {
  const std::int64_t d = wrap_dim(dim, x.dim(), "cumsum");
  const Plan plan = plan_reduction(x.detach(), {d}, "cumsum");
  Tensor out = Tensor::empty(x.shape(), x.dtype(), x.device());
  if (use_cuda(x)) {
#if LAPLEX_WITH_CUDA
    cuda::cumsum(plan.input, plan.geometry, out, false);
#endif
  } else {
    cpu::cumsum(plan.input, plan.geometry, out, false);
  }
  record(out, {x}, "cumsum", [d](const std::vector<Tensor>& g) {
    // The gradient of a prefix sum is a suffix sum.
    const Tensor gc = g[0].contiguous();
    ReduceGeometry geometry;
    for (std::int64_t k = 0; k < gc.dim(); ++k)
      (k < d ? geometry.outer : k == d ? geometry.reduced : geometry.inner) *= gc.shape()[k];
    Tensor grad = Tensor::empty(gc.shape(), gc.dtype(), gc.device());
    if (use_cuda(gc)) {
#if LAPLEX_WITH_CUDA
      cuda::cumsum(gc, geometry, grad, true);
#endif
    } else {
      cpu::cumsum(gc, geometry, grad, true);
    }
    return std::vector<Tensor>{grad};
  });
  return out;
}

}  // namespace laplex
