#include "core/tensor.h"

#include <sstream>

#include "core/autograd/engine.h"
#include "core/ops/copy.h"

namespace laplex {

Tensor Tensor::empty(const Shape& shape, DType dtype, Device device) {
  for (auto d : shape)
    if (d < 0) throw Error("negative dimension in shape " + shape_str(shape));
  std::int64_t bytes = 0;
  if (__builtin_mul_overflow(laplex::numel(shape), static_cast<std::int64_t>(dtype_size(dtype)),
                             &bytes))
    throw Error("a tensor of shape " + shape_str(shape) + " would take more than 2^63 bytes");
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = std::make_shared<Storage>(static_cast<std::size_t>(bytes), device);
  impl->shape = shape;
  impl->strides = contiguous_strides(shape);
  impl->dtype = dtype;
  impl->device = device;
  return Tensor(std::move(impl));
}

Tensor Tensor::zeros(const Shape& shape, DType dtype, Device device) {
  return full(shape, 0.0, dtype, device);
}

Tensor Tensor::ones(const Shape& shape, DType dtype, Device device) {
  return full(shape, 1.0, dtype, device);
}

Tensor Tensor::full(const Shape& shape, double value, DType dtype, Device device) {
  Tensor out = empty(shape, dtype, device);
  fill_tensor(out, value);
  return out;
}

Tensor Tensor::scalar(double value, DType dtype, Device device) {
  return full({}, value, dtype, device);
}

Tensor Tensor::arange(std::int64_t n, DType dtype, Device device) {
  Tensor host = empty({n}, dtype, Device::cpu());
  visit_dtype(dtype, [&](auto tag) {
    using T = decltype(tag);
    T* p = host.data<T>();
    for (std::int64_t i = 0; i < n; ++i) p[i] = static_cast<T>(i);
  });
  return host.to(device);
}

Tensor Tensor::empty_like(const Tensor& other) {
  return empty(other.shape(), other.dtype(), other.device());
}

Tensor Tensor::zeros_like(const Tensor& other) {
  return zeros(other.shape(), other.dtype(), other.device());
}

std::int64_t Tensor::size(std::int64_t d) const {
  return impl().shape[wrap_dim(d, dim(), "size")];
}

bool Tensor::is_contiguous() const {
  const TensorImpl& t = impl();
  std::int64_t expected = 1;
  for (std::size_t i = t.shape.size(); i-- > 0;) {
    if (t.shape[i] == 1) continue;
    if (t.strides[i] != expected) return false;
    expected *= t.shape[i];
  }
  return true;
}

void* Tensor::raw_data() const {
  return static_cast<char*>(impl().storage->data()) + impl().offset * dtype_size(dtype());
}

Tensor make_view(const Tensor& base, const Shape& shape, const Strides& strides,
                 std::int64_t offset) {
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = base.storage();
  impl->shape = shape;
  impl->strides = strides;
  impl->offset = offset;
  impl->dtype = base.dtype();
  impl->device = base.device();
  return Tensor(std::move(impl));
}

Tensor Tensor::to(Device device) const {
  if (device == this->device()) return *this;
  Tensor src = contiguous();
  Tensor out = empty(shape(), dtype(), device);
  copy_bytes(out.raw_data(), device, src.raw_data(), src.device(),
             numel() * dtype_size(dtype()));
  return out;
}

Tensor Tensor::to(DType dtype) const {
  if (dtype == this->dtype()) return *this;
  Tensor out = empty(shape(), dtype, device());
  copy_into(*this, out);
  return out;
}

Tensor Tensor::contiguous() const {
  if (is_contiguous()) return *this;
  return clone();
}

Tensor Tensor::clone() const {
  Tensor out = empty(shape(), dtype(), device());
  copy_into(*this, out);
  return out;
}

template <class T>
std::vector<T> Tensor::to_vector() const {
  Tensor host = to(Device::cpu()).to(dtype_of<T>()).contiguous();
  const T* p = host.data<T>();
  return std::vector<T>(p, p + host.numel());
}
template std::vector<float> Tensor::to_vector<float>() const;
template std::vector<double> Tensor::to_vector<double>() const;
template std::vector<std::int32_t> Tensor::to_vector<std::int32_t>() const;
template std::vector<std::int64_t> Tensor::to_vector<std::int64_t>() const;

double Tensor::item() const {
  if (numel() != 1)
    throw Error("item() on a tensor of shape " + shape_str(shape()) + " (expected one element)");
  return to_vector<double>()[0];
}

std::string Tensor::str() const {
  std::ostringstream out;
  out << "Tensor" << shape_str(shape()) << " " << dtype_name(dtype()) << " " << device().str();
  return out.str();
}

Tensor& Tensor::set_requires_grad(bool requires_grad) {
  if (requires_grad && !is_floating(dtype()))
    throw Error("only float tensors can require grad, not " + dtype_name(dtype()));
  if (!is_leaf()) throw Error("set_requires_grad on a non-leaf tensor; use detach() first");
  impl().requires_grad = requires_grad;
  return *this;
}

Tensor Tensor::grad() const {
  return impl().grad ? Tensor(impl().grad) : Tensor();
}

void Tensor::zero_grad() { impl().grad.reset(); }

void Tensor::set_grad(const Tensor& grad) {
  if (grad.defined() && grad.shape() != shape())
    throw Error("set_grad: gradient of shape " + shape_str(grad.shape()) + " for a tensor of shape " +
                shape_str(shape()));
  impl().grad = grad.defined() ? grad.impl_ptr() : nullptr;
}

void Tensor::backward(const Tensor& grad) const { autograd::backward({*this}, {grad}); }

Tensor Tensor::detach() const {
  return make_view(*this, shape(), strides(), offset());
}

Tensor& Tensor::copy_(const Tensor& src) {
  if (src.device() == device()) {
    copy_into(src, *this);
  } else {
    copy_into(src.to(dtype()).contiguous().to(device()), *this);
  }
  return *this;
}

Tensor& Tensor::fill_(double value) {
  fill_tensor(*this, value);
  return *this;
}

}  // namespace laplex
