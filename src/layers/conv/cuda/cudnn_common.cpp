#include "core/error.h"

#if LAPLEX_WITH_CUDNN

#include <array>
#include <climits>
#include <mutex>
#include <string>

#include "core/cuda/cuda_context.h"
#include "layers/conv/cuda/cudnn_common.h"

namespace laplex::cuda {

void check(cudnnStatus_t status, const char* what) {
  if (status != CUDNN_STATUS_SUCCESS)
    throw Error(std::string(what) + ": " + cudnnGetErrorString(status) + " (cuDNN status " +
                std::to_string(static_cast<int>(status)) + ")");
}

// Like the cuBLAS handles in cuda_context.cpp: one per device for the whole
// process, created once, bound to the device's compute stream.
cudnnHandle_t cudnn(int device) {
  constexpr int kMaxDevices = 16;
  struct Slot {
    std::once_flag once;
    cudnnHandle_t handle = nullptr;
  };
  static std::array<Slot, kMaxDevices> slots;
  if (device < 0 || device >= kMaxDevices)
    throw Error("cuda:" + std::to_string(device) + " is out of range");
  cudaStream_t s = stream(device);  // also makes the device current
  Slot& slot = slots[device];
  std::call_once(slot.once, [&] {
    // cuDNN keeps its ABI within a major version: the library found at run
    // time must be the major version laplex was compiled against.
    const std::size_t loaded = cudnnGetVersion();
    if (loaded / 10000 != CUDNN_MAJOR)
      throw Error("cuDNN: laplex was built against cuDNN " + std::to_string(CUDNN_MAJOR) +
                  " but loaded version " + std::to_string(loaded));
    cudnnHandle_t handle = nullptr;
    check(cudnnCreate(&handle), "cudnnCreate");
    const cudnnStatus_t bound = cudnnSetStream(handle, s);
    if (bound != CUDNN_STATUS_SUCCESS) cudnnDestroy(handle);
    check(bound, "cudnnSetStream");
    slot.handle = handle;
  });
  return slot.handle;
}

int cudnn_int(std::int64_t value, const char* what) {
  if (value < 0 || value > INT_MAX)
    throw Error(std::string(what) + ": " + std::to_string(value) +
                " does not fit cuDNN's 32-bit descriptors");
  return static_cast<int>(value);
}

TensorDescriptor::TensorDescriptor(const Shape& s) {
  if (s.size() != 4) throw Error("cuDNN tensor descriptor: expected 4 dimensions, got " + shape_str(s));
  cudnn_int(numel(s), "cuDNN tensor descriptor: element count");
  check(cudnnCreateTensorDescriptor(&desc_), "cudnnCreateTensorDescriptor");
  const cudnnStatus_t status = cudnnSetTensor4dDescriptor(
      desc_, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, cudnn_int(s[0], "batch"),
      cudnn_int(s[1], "channels"), cudnn_int(s[2], "height"), cudnn_int(s[3], "width"));
  if (status != CUDNN_STATUS_SUCCESS) cudnnDestroyTensorDescriptor(desc_);
  check(status, "cudnnSetTensor4dDescriptor");
}
TensorDescriptor::~TensorDescriptor() { cudnnDestroyTensorDescriptor(desc_); }

FilterDescriptor::FilterDescriptor(const Shape& s) {
  if (s.size() != 4) throw Error("cuDNN filter descriptor: expected 4 dimensions, got " + shape_str(s));
  cudnn_int(numel(s), "cuDNN filter descriptor: element count");
  check(cudnnCreateFilterDescriptor(&desc_), "cudnnCreateFilterDescriptor");
  const cudnnStatus_t status = cudnnSetFilter4dDescriptor(
      desc_, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NCHW, cudnn_int(s[0], "out channels"),
      cudnn_int(s[1], "in channels"), cudnn_int(s[2], "kernel height"),
      cudnn_int(s[3], "kernel width"));
  if (status != CUDNN_STATUS_SUCCESS) cudnnDestroyFilterDescriptor(desc_);
  check(status, "cudnnSetFilter4dDescriptor");
}
FilterDescriptor::~FilterDescriptor() { cudnnDestroyFilterDescriptor(desc_); }

ConvolutionDescriptor::ConvolutionDescriptor(const Window2d& w) {
  const int pad = cudnn_int(w.padding, "padding"), stride = cudnn_int(w.stride, "stride");
  check(cudnnCreateConvolutionDescriptor(&desc_), "cudnnCreateConvolutionDescriptor");
  cudnnStatus_t status = cudnnSetConvolution2dDescriptor(desc_, pad, pad, stride, stride, 1, 1,
                                                         CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT);
  const char* what = "cudnnSetConvolution2dDescriptor";
  if (status == CUDNN_STATUS_SUCCESS) {
    status = cudnnSetConvolutionMathType(desc_, CUDNN_FMA_MATH);
    what = "cudnnSetConvolutionMathType";
  }
  if (status != CUDNN_STATUS_SUCCESS) cudnnDestroyConvolutionDescriptor(desc_);
  check(status, what);
}
ConvolutionDescriptor::~ConvolutionDescriptor() { cudnnDestroyConvolutionDescriptor(desc_); }

PoolingDescriptor::PoolingDescriptor(const Window2d& w, bool take_max) {
  const int k = cudnn_int(w.kernel, "kernel"), pad = cudnn_int(w.padding, "padding"),
            stride = cudnn_int(w.stride, "stride");
  check(cudnnCreatePoolingDescriptor(&desc_), "cudnnCreatePoolingDescriptor");
  const cudnnStatus_t status = cudnnSetPooling2dDescriptor(
      desc_, take_max ? CUDNN_POOLING_MAX_DETERMINISTIC : CUDNN_POOLING_AVERAGE_COUNT_INCLUDE_PADDING,
      CUDNN_PROPAGATE_NAN, k, k, pad, pad, stride, stride);
  if (status != CUDNN_STATUS_SUCCESS) cudnnDestroyPoolingDescriptor(desc_);
  check(status, "cudnnSetPooling2dDescriptor");
}
PoolingDescriptor::~PoolingDescriptor() { cudnnDestroyPoolingDescriptor(desc_); }

Tensor cudnn_workspace(std::size_t bytes, int device) {
  if (bytes == 0) return Tensor();
  const auto words = static_cast<std::int64_t>((bytes + sizeof(float) - 1) / sizeof(float));
  return Tensor::empty({words}, DType::f32, Device::cuda(device));
}

}  // namespace laplex::cuda

#endif  // LAPLEX_WITH_CUDNN
