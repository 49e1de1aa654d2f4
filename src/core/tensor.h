#pragma once
// Tensor: a refcounted handle to a view (shape, strides, offset) of a
// storage, with a dtype, a device and autograd state. Copying a Tensor copies
// the handle, not the data (like torch.Tensor). Host/device copies are
// explicit through to(device).
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/device.h"
#include "core/dtype.h"
#include "core/error.h"
#include "core/shape.h"
#include "core/storage.h"

namespace laplex {

namespace autograd {
class Node;
}

struct TensorImpl {
  std::shared_ptr<Storage> storage;
  Shape shape;
  Strides strides;
  std::int64_t offset = 0;  // in elements
  DType dtype = DType::f32;
  Device device;

  // Autograd. A leaf that requires grad accumulates into `grad`; a non-leaf
  // points at the node that produced it (output number output_nr).
  bool requires_grad = false;
  std::shared_ptr<TensorImpl> grad;
  std::shared_ptr<autograd::Node> grad_fn;
  int output_nr = 0;
  // The node that accumulates into this leaf, shared by every op using it.
  std::weak_ptr<autograd::Node> grad_accumulator;
};

class Tensor {
 public:
  Tensor() = default;
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

  // Factories. Uninitialised memory for empty(); the others fill.
  static Tensor empty(const Shape& shape, DType dtype = DType::f32, Device device = Device::cpu());
  static Tensor zeros(const Shape& shape, DType dtype = DType::f32, Device device = Device::cpu());
  static Tensor ones(const Shape& shape, DType dtype = DType::f32, Device device = Device::cpu());
  static Tensor full(const Shape& shape, double value, DType dtype = DType::f32,
                     Device device = Device::cpu());
  static Tensor scalar(double value, DType dtype = DType::f32, Device device = Device::cpu());
  static Tensor arange(std::int64_t n, DType dtype = DType::i64, Device device = Device::cpu());
  // Copies host values into a new tensor of dtype_of<T>() on `device`.
  template <class T>
  static Tensor from_vector(const std::vector<T>& values, const Shape& shape,
                            Device device = Device::cpu());
  static Tensor empty_like(const Tensor& other);
  static Tensor zeros_like(const Tensor& other);

  bool defined() const { return impl_ != nullptr; }
  const Shape& shape() const { return impl().shape; }
  const Strides& strides() const { return impl().strides; }
  std::int64_t offset() const { return impl().offset; }
  std::int64_t dim() const { return static_cast<std::int64_t>(impl().shape.size()); }
  std::int64_t size(std::int64_t d) const;
  std::int64_t numel() const { return laplex::numel(impl().shape); }
  DType dtype() const { return impl().dtype; }
  Device device() const { return impl().device; }
  bool is_contiguous() const;
  const std::shared_ptr<Storage>& storage() const { return impl().storage; }

  // Typed pointer to the first element of this view (checks the dtype).
  template <class T>
  T* data() const;
  void* raw_data() const;

  // Copies. to() and contiguous() return *this when nothing changes.
  Tensor to(Device device) const;
  Tensor to(DType dtype) const;
  Tensor contiguous() const;
  Tensor clone() const;
  template <class T>
  std::vector<T> to_vector() const;  // host copy, row-major, converting dtype
  double item() const;               // single-element tensor as double
  std::string str() const;           // short description: shape, dtype, device

  // Autograd.
  bool requires_grad() const { return impl().requires_grad; }
  Tensor& set_requires_grad(bool requires_grad);
  Tensor grad() const;
  void zero_grad();
  void set_grad(const Tensor& grad);
  bool is_leaf() const { return impl().grad_fn == nullptr; }
  const std::shared_ptr<autograd::Node>& grad_fn() const { return impl().grad_fn; }
  // Runs backpropagation from this tensor. A scalar needs no gradient;
  // otherwise `grad` must have this tensor's shape.
  void backward(const Tensor& grad = Tensor()) const;
  // Same data, no autograd history.
  Tensor detach() const;

  // In-place updates without autograd (optimizers, initialisers, loaders).
  Tensor& copy_(const Tensor& src);
  Tensor& fill_(double value);
  Tensor& zero_() { return fill_(0.0); }

  TensorImpl& impl() const {
    if (!impl_) throw Error("use of an undefined tensor");
    return *impl_;
  }
  const std::shared_ptr<TensorImpl>& impl_ptr() const { return impl_; }
  bool same(const Tensor& other) const { return impl_ == other.impl_; }

 private:
  std::shared_ptr<TensorImpl> impl_;
};

// A new tensor viewing `base`'s storage with the given geometry.
Tensor make_view(const Tensor& base, const Shape& shape, const Strides& strides,
                 std::int64_t offset);

template <class T>
T* Tensor::data() const {
  if (dtype() != dtype_of<T>())
    throw Error("data<" + dtype_name(dtype_of<T>()) + ">() on a " + dtype_name(dtype()) +
                " tensor");
  return static_cast<T*>(impl().storage->data()) + impl().offset;
}

template <class T>
Tensor Tensor::from_vector(const std::vector<T>& values, const Shape& shape, Device device) {
  if (static_cast<std::int64_t>(values.size()) != laplex::numel(shape))
    throw Error("from_vector: " + std::to_string(values.size()) + " values for shape " +
                shape_str(shape));
  Tensor out = empty(shape, dtype_of<T>(), device);
  copy_bytes(out.raw_data(), device, values.data(), Device::cpu(), values.size() * sizeof(T));
  return out;
}

}  // namespace laplex
