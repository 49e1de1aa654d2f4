#include "core/ops/index.h"

#include <string>

#include "core/autograd/node.h"
#include "core/ops/copy.h"
#include "core/ops/dispatch.h"
#include "core/ops/index_kernels.h"

namespace laplex {

namespace {

void check_index(const Tensor& x, const Tensor& index, const char* op) {
  if (index.dtype() != DType::i64 && index.dtype() != DType::i32)
    throw Error(std::string(op) + ": index must be int64 or int32, got " +
                dtype_name(index.dtype()));
  check_same_device(op, {x, index});
}

// index.size(k) <= t.size(k) for every k (but `skip`), as torch requires.
void check_fits(const Tensor& index, const Tensor& t, std::int64_t skip, const char* op,
                const char* what) {
  if (index.dim() != t.dim())
    throw Error(std::string(op) + ": index has rank " + std::to_string(index.dim()) + ", " +
                what + " has rank " + std::to_string(t.dim()));
  for (std::int64_t k = 0; k < t.dim(); ++k)
    if (k != skip && index.shape()[k] > t.shape()[k])
      throw Error(std::string(op) + ": index of shape " + shape_str(index.shape()) +
                  " does not fit " + what + " of shape " + shape_str(t.shape()) + " in dim " +
                  std::to_string(k));
}

// The raw kernels, shared by the forward ops and the backward passes (whose
// indices were checked already).
Tensor run_gather(const Tensor& x, std::int64_t d, const Tensor& index) {
  Tensor out = Tensor::empty(index.shape(), x.dtype(), x.device());
  if (out.numel() == 0) return out;
  if (use_cuda(x)) {
#if LAPLEX_WITH_CUDA
    cuda::gather(x, d, index, out);
#endif
  } else {
    cpu::gather(x, d, index, out);
  }
  return out;
}

// A copy of x with src (index's shape) scattered into it.
Tensor run_scatter_add(const Tensor& x, std::int64_t d, const Tensor& index, const Tensor& src) {
  Tensor out = Tensor::empty(x.shape(), x.dtype(), x.device());
  copy_into(x, out);
  if (index.numel() == 0) return out;
  if (use_cuda(out)) {
#if LAPLEX_WITH_CUDA
    cuda::scatter_add(out, d, index, src);
#endif
  } else {
    cpu::scatter_add(out, d, index, src);
  }
  return out;
}

// The gradient of a gather: g (index's shape) added into zeros of x's shape.
Tensor scatter_into_zeros(const Shape& shape, std::int64_t d, const Tensor& index,
                          const Tensor& g) {
  return run_scatter_add(Tensor::zeros(shape, g.dtype(), g.device()), d, index, g);
}

}  // namespace

Tensor gather(const Tensor& x, std::int64_t dim, const Tensor& index) {
  check_index(x, index, "gather");
  const std::int64_t d = wrap_dim(dim, x.dim(), "gather");
  check_fits(index, x, d, "gather", "input");
  if (!use_cuda(index)) cpu::check_index_range(index, x.shape()[d], "gather");
  Tensor out = run_gather(x.detach(), d, index.detach());
  autograd::record(out, {x}, "gather",
                   [d, index = index.detach(), shape = x.shape()](const std::vector<Tensor>& g) {
                     return std::vector<Tensor>{scatter_into_zeros(shape, d, index, g[0])};
                   });
  return out;
}

Tensor index_select(const Tensor& x, std::int64_t dim, const Tensor& index) {
  check_index(x, index, "index_select");
  if (index.dim() != 1)
    throw Error("index_select: index must be 1-D, got shape " + shape_str(index.shape()));
  const std::int64_t d = wrap_dim(dim, x.dim(), "index_select");
  if (!use_cuda(index)) cpu::check_index_range(index, x.shape()[d], "index_select");
  // A gather whose index is the 1-D index broadcast (stride 0) over the
  // other dims: no copy, and the gather kernels serve both ops.
  Shape shape = x.shape();
  shape[d] = index.shape()[0];
  Strides strides(shape.size(), 0);
  strides[d] = index.strides()[0];
  const Tensor wide = make_view(index.detach(), shape, strides, index.offset());
  Tensor out = run_gather(x.detach(), d, wide);
  autograd::record(out, {x}, "index_select",
                   [d, wide, in_shape = x.shape()](const std::vector<Tensor>& g) {
                     return std::vector<Tensor>{scatter_into_zeros(in_shape, d, wide, g[0])};
                   });
  return out;
}

Tensor scatter_add(const Tensor& x, std::int64_t dim, const Tensor& index, const Tensor& src) {
  check_index(x, index, "scatter_add");
  check_same_device("scatter_add", {x, src});
  check_same_dtype("scatter_add", {x, src});
  if (!is_floating(x.dtype()))
    throw Error("scatter_add: needs a floating dtype, got " + dtype_name(x.dtype()));
  const std::int64_t d = wrap_dim(dim, x.dim(), "scatter_add");
  check_fits(index, x, d, "scatter_add", "input");
  check_fits(index, src, -1, "scatter_add", "src");
  if (!use_cuda(index)) cpu::check_index_range(index, x.shape()[d], "scatter_add");
  // Only src's leading block of index's shape takes part: view just that.
  const Tensor part = make_view(src.detach(), index.shape(), src.strides(), src.offset());
  Tensor out = run_scatter_add(x.detach(), d, index.detach(), part);
  autograd::record(
      out, {x, src}, "scatter_add",
      [d, index = index.detach(), src_shape = src.shape()](const std::vector<Tensor>& g) {
        Tensor grad_src = run_gather(g[0], d, index);
        if (grad_src.shape() != src_shape) {
          Tensor padded = Tensor::zeros(src_shape, grad_src.dtype(), grad_src.device());
          copy_into(grad_src, make_view(padded, index.shape(), padded.strides(), 0));
          grad_src = padded;
        }
        return std::vector<Tensor>{g[0], grad_src};
      });
  return out;
}

}  // namespace laplex
