#include "core/ops/join.h"

#include <string>

#include "core/autograd/node.h"
#include "core/ops/copy.h"
#include "core/ops/view.h"

namespace laplex {

namespace {

void check_joinable(const std::vector<Tensor>& tensors, std::int64_t d, const char* op) {
  const Tensor& first = tensors.front();
  for (std::size_t k = 1; k < tensors.size(); ++k) {
    const Tensor& t = tensors[k];
    if (t.device() != first.device())
      throw Error(std::string(op) + ": input " + std::to_string(k) + " is on " +
                  t.device().str() + ", input 0 on " + first.device().str());
    if (t.dtype() != first.dtype())
      throw Error(std::string(op) + ": input " + std::to_string(k) + " is " +
                  dtype_name(t.dtype()) + ", input 0 is " + dtype_name(first.dtype()));
    bool compatible = t.dim() == first.dim();
    for (std::int64_t i = 0; compatible && i < t.dim(); ++i)
      compatible = i == d || t.shape()[i] == first.shape()[i];
    if (!compatible)
      throw Error(std::string(op) + ": input " + std::to_string(k) + " has shape " +
                  shape_str(t.shape()) + ", input 0 has " + shape_str(first.shape()) +
                  " (only dim " + std::to_string(d) + " may differ)");
  }
}

// Copies each input into its slice of `out` along d. Each input is one
// strided copy; the copy kernels already handle any layout on both backends,
// so joining needs no kernel of its own.
void copy_slices(const std::vector<Tensor>& parts, std::int64_t d, const Tensor& out) {
  std::int64_t start = 0;
  for (const Tensor& t : parts) {
    const std::int64_t size = t.shape()[d];
    if (size > 0) copy_into(t, slice(out, d, start, start + size));
    start += size;
  }
}

}  // namespace

Tensor concat(const std::vector<Tensor>& tensors, std::int64_t dim) {
  if (tensors.empty()) throw Error("concat: no tensors to join");
  const Tensor& first = tensors.front();
  if (first.dim() == 0) throw Error("concat: cannot join 0-dim tensors; use stack");
  const std::int64_t d = wrap_dim(dim, first.dim(), "concat");
  check_joinable(tensors, d, "concat");

  Shape shape = first.shape();
  std::vector<std::int64_t> bounds{0};
  for (const Tensor& t : tensors) bounds.push_back(bounds.back() + t.shape()[d]);
  shape[d] = bounds.back();
  Tensor out = Tensor::empty(shape, first.dtype(), first.device());
  copy_slices(tensors, d, out);
  autograd::record(out, tensors, "concat", [d, bounds](const std::vector<Tensor>& g) {
    std::vector<Tensor> grads;
    for (std::size_t k = 0; k + 1 < bounds.size(); ++k)
      grads.push_back(slice(g[0], d, bounds[k], bounds[k + 1]));
    return grads;
  });
  return out;
}

Tensor stack(const std::vector<Tensor>& tensors, std::int64_t dim) {
  if (tensors.empty()) throw Error("stack: no tensors to join");
  const Shape& shape = tensors.front().shape();
  const std::int64_t d = wrap_dim(dim, tensors.front().dim() + 1, "stack");
  for (std::size_t k = 1; k < tensors.size(); ++k)
    if (tensors[k].shape() != shape)
      throw Error("stack: input " + std::to_string(k) + " has shape " +
                  shape_str(tensors[k].shape()) + ", input 0 has " + shape_str(shape));
  check_joinable(tensors, 0, "stack");

  // Each input seen as having a size-1 dim at d: a view, so strided inputs
  // are not copied twice.
  std::vector<Tensor> parts;
  for (const Tensor& t : tensors) {
    Shape s = t.shape();
    Strides st = t.strides();
    s.insert(s.begin() + d, 1);
    st.insert(st.begin() + d, 0);
    parts.push_back(make_view(t.detach(), s, st, t.offset()));
  }
  Shape out_shape = shape;
  out_shape.insert(out_shape.begin() + d, static_cast<std::int64_t>(tensors.size()));
  Tensor out = Tensor::empty(out_shape, tensors.front().dtype(), tensors.front().device());
  copy_slices(parts, d, out);
  autograd::record(out, tensors, "stack",
                   [d, n = tensors.size()](const std::vector<Tensor>& g) {
                     std::vector<Tensor> grads;
                     for (std::size_t k = 0; k < n; ++k) {
                       const auto i = static_cast<std::int64_t>(k);
                       grads.push_back(squeeze(slice(g[0], d, i, i + 1), d));
                     }
                     return grads;
                   });
  return out;
}

}  // namespace laplex
