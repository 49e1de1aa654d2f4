#pragma once
// What the cuDNN calls of conv2d and pooling share: one cuDNN handle per
// device, created on first use and bound to the device's compute stream
// (core/cuda/cuda_context.h), so cuDNN work is ordered with every other op;
// status checks that name the call; descriptors that destroy themselves; and
// workspaces from the caching allocator. Included only by files under cuda/
// when laplex is built with cuDNN (LAPLEX_WITH_CUDNN).
#include <cudnn.h>

#include <cstddef>
#include <cstdint>

#include "core/tensor.h"
#include "layers/conv/unfold.h"

namespace laplex::cuda {

// Throws laplex::Error naming `what` when status is not success.
void check(cudnnStatus_t status, const char* what);

// The handle of `device` (makes the device current, as stream() does).
cudnnHandle_t cudnn(int device);

// A dimension for cuDNN's int-typed descriptors; throws when it does not fit.
int cudnn_int(std::int64_t value, const char* what);

// Float32 NCHW tensor (n, c, h, w), fully packed.
class TensorDescriptor {
 public:
  explicit TensorDescriptor(const Shape& nchw);
  ~TensorDescriptor();
  TensorDescriptor(const TensorDescriptor&) = delete;
  TensorDescriptor& operator=(const TensorDescriptor&) = delete;
  cudnnTensorDescriptor_t get() const { return desc_; }

 private:
  cudnnTensorDescriptor_t desc_ = nullptr;
};

// Float32 NCHW filter (out, in, kh, kw).
class FilterDescriptor {
 public:
  explicit FilterDescriptor(const Shape& oihw);
  ~FilterDescriptor();
  FilterDescriptor(const FilterDescriptor&) = delete;
  FilterDescriptor& operator=(const FilterDescriptor&) = delete;
  cudnnFilterDescriptor_t get() const { return desc_; }

 private:
  cudnnFilterDescriptor_t desc_ = nullptr;
};

// Cross-correlation (what PyTorch and laplex call convolution) with the
// window's stride and zero padding on both sides, no dilation, float32
// accumulation, and FMA math only: no TF32 tensor cores, so results match
// the CPU path to float32 rounding.
class ConvolutionDescriptor {
 public:
  explicit ConvolutionDescriptor(const Window2d& window);
  ~ConvolutionDescriptor();
  ConvolutionDescriptor(const ConvolutionDescriptor&) = delete;
  ConvolutionDescriptor& operator=(const ConvolutionDescriptor&) = delete;
  cudnnConvolutionDescriptor_t get() const { return desc_; }

 private:
  cudnnConvolutionDescriptor_t desc_ = nullptr;
};

// Max pooling (padding never wins, as -inf) or average pooling counting the
// padding zeros (PyTorch's count_include_pad), square window.
class PoolingDescriptor {
 public:
  PoolingDescriptor(const Window2d& window, bool take_max);
  ~PoolingDescriptor();
  PoolingDescriptor(const PoolingDescriptor&) = delete;
  PoolingDescriptor& operator=(const PoolingDescriptor&) = delete;
  cudnnPoolingDescriptor_t get() const { return desc_; }

 private:
  cudnnPoolingDescriptor_t desc_ = nullptr;
};

// At least `bytes` of device memory from the caching allocator, held by the
// returned tensor (undefined when bytes is 0). Work queued on the compute
// stream may use it after the tensor is dropped: the allocator hands a freed
// block only to later work on the same stream.
Tensor cudnn_workspace(std::size_t bytes, int device);
inline void* workspace_ptr(const Tensor& workspace) {
  return workspace.defined() ? workspace.raw_data() : nullptr;
}

}  // namespace laplex::cuda
