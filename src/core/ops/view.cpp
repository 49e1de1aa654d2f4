#include "core/ops/view.h"

#include <numeric>

#include "core/autograd/node.h"
#include "core/ops/elementwise.h"

namespace laplex {

using autograd::record;

namespace {

Shape infer_shape(const Shape& shape, std::int64_t count, const Shape& from) {
  Shape out = shape;
  std::int64_t known = 1;
  int infer = -1;
  for (std::size_t i = 0; i < out.size(); ++i) {
    if (out[i] == -1) {
      if (infer >= 0) throw Error("reshape: more than one -1 in " + shape_str(shape));
      infer = static_cast<int>(i);
    } else {
      if (out[i] < 0) throw Error("reshape: negative size in " + shape_str(shape));
      known *= out[i];
    }
  }
  if (infer >= 0) {
    if (known == 0 || count % known != 0)
      throw Error("reshape: cannot view " + shape_str(from) + " as " + shape_str(shape));
    out[infer] = count / known;
  }
  if (numel(out) != count)
    throw Error("reshape: cannot view " + shape_str(from) + " (" + std::to_string(count) +
                " elements) as " + shape_str(shape));
  return out;
}

Tensor with_reshape_grad(Tensor out, const Tensor& x, const char* name) {
  record(out, {x}, name, [shape = x.shape()](const std::vector<Tensor>& g) {
    return std::vector<Tensor>{reshape(g[0], shape)};
  });
  return out;
}

}  // namespace

Tensor view(const Tensor& x, const Shape& shape) {
  if (!x.is_contiguous()) throw Error("view: input is not contiguous; use reshape");
  const Shape target = infer_shape(shape, x.numel(), x.shape());
  return with_reshape_grad(make_view(x, target, contiguous_strides(target), x.offset()), x, "view");
}

Tensor reshape(const Tensor& x, const Shape& shape) {
  const Shape target = infer_shape(shape, x.numel(), x.shape());
  if (target == x.shape()) return x;
  const Tensor source = x.is_contiguous() ? x : x.detach().contiguous();
  return with_reshape_grad(make_view(source, target, contiguous_strides(target), source.offset()),
                           x, "reshape");
}

Tensor flatten(const Tensor& x, std::int64_t start_dim, std::int64_t end_dim) {
  if (x.dim() == 0) return reshape(x, {1});
  const std::int64_t start = wrap_dim(start_dim, x.dim(), "flatten");
  const std::int64_t end = wrap_dim(end_dim, x.dim(), "flatten");
  if (start > end) throw Error("flatten: start_dim after end_dim");
  Shape shape(x.shape().begin(), x.shape().begin() + start);
  std::int64_t merged = 1;
  for (std::int64_t d = start; d <= end; ++d) merged *= x.shape()[d];
  shape.push_back(merged);
  shape.insert(shape.end(), x.shape().begin() + end + 1, x.shape().end());
  return reshape(x, shape);
}

Tensor permute(const Tensor& x, const std::vector<std::int64_t>& dims) {
  if (static_cast<std::int64_t>(dims.size()) != x.dim())
    throw Error("permute: " + std::to_string(dims.size()) + " dims for a tensor of rank " +
                std::to_string(x.dim()));
  Shape shape(dims.size());
  Strides strides(dims.size());
  std::vector<std::int64_t> inverse(dims.size(), -1);
  for (std::size_t i = 0; i < dims.size(); ++i) {
    const std::int64_t d = wrap_dim(dims[i], x.dim(), "permute");
    if (inverse[d] != -1) throw Error("permute: dim repeated");
    inverse[d] = static_cast<std::int64_t>(i);
    shape[i] = x.shape()[d];
    strides[i] = x.strides()[d];
  }
  Tensor out = make_view(x, shape, strides, x.offset());
  record(out, {x}, "permute", [inverse](const std::vector<Tensor>& g) {
    return std::vector<Tensor>{permute(g[0], inverse)};
  });
  return out;
}

Tensor transpose(const Tensor& x, std::int64_t dim0, std::int64_t dim1) {
  std::vector<std::int64_t> dims(x.dim());
  std::iota(dims.begin(), dims.end(), 0);
  std::swap(dims[wrap_dim(dim0, x.dim(), "transpose")], dims[wrap_dim(dim1, x.dim(), "transpose")]);
  return permute(x, dims);
}

Tensor slice(const Tensor& x, std::int64_t dim, std::int64_t start, std::int64_t end,
             std::int64_t step) {
  const std::int64_t d = wrap_dim(dim, x.dim(), "slice");
  const std::int64_t size = x.shape()[d];
  if (step <= 0) throw Error("slice: step must be positive");
  if (start < 0) start += size;
  if (end < 0) end += size;
  start = std::clamp<std::int64_t>(start, 0, size);
  end = std::clamp<std::int64_t>(end, start, size);
  Shape shape = x.shape();
  Strides strides = x.strides();
  shape[d] = (end - start + step - 1) / step;
  strides[d] *= step;
  Tensor out = make_view(x, shape, strides, x.offset() + start * x.strides()[d]);
  record(out, {x}, "slice",
         [in_shape = x.shape(), d, start, end, step](const std::vector<Tensor>& g) {
           Tensor grad = Tensor::zeros(in_shape, g[0].dtype(), g[0].device());
           slice(grad, d, start, end, step).copy_(g[0]);
           return std::vector<Tensor>{grad};
         });
  return out;
}

Tensor unsqueeze(const Tensor& x, std::int64_t dim) {
  const std::int64_t d = wrap_dim(dim, x.dim() + 1, "unsqueeze");
  Shape shape = x.shape();
  shape.insert(shape.begin() + d, 1);
  return reshape(x, shape);
}

Tensor squeeze(const Tensor& x, std::int64_t dim) {
  const std::int64_t d = wrap_dim(dim, x.dim(), "squeeze");
  if (x.shape()[d] != 1) return x;
  Shape shape = x.shape();
  shape.erase(shape.begin() + d);
  return reshape(x, shape);
}

Tensor expand(const Tensor& x, const Shape& shape) {
  const Shape target = broadcast_shapes(x.shape(), shape, "expand");
  if (target != shape)
    throw Error("expand: cannot expand " + shape_str(x.shape()) + " to " + shape_str(shape));
  Tensor out = make_view(x, shape, broadcast_strides(x.shape(), x.strides(), shape), x.offset());
  record(out, {x}, "expand", [in_shape = x.shape()](const std::vector<Tensor>& g) {
    return std::vector<Tensor>{sum_to(g[0], in_shape)};
  });
  return out;
}

}  // namespace laplex
