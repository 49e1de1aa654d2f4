#include "core/cuda/cuda_context.h"

#include <array>
#include <mutex>
#include <string>

#include "core/error.h"

namespace laplex::cuda {

namespace {

constexpr int kMaxDevices = 16;

struct DeviceState {
  std::once_flag once;
  cudaStream_t stream = nullptr;
  cublasHandle_t cublas = nullptr;
  std::size_t total_memory = 0;
};

// The per-device handles live for the whole process: CUDA streams and cuBLAS
// handles are process resources, created once, like the CUDA context itself.
DeviceState& state(int device) {
  static std::array<DeviceState, kMaxDevices> states;
  if (device < 0 || device >= kMaxDevices)
    throw Error("cuda:" + std::to_string(device) + " is out of range");
  DeviceState& s = states[device];
  std::call_once(s.once, [&] {
    check(cudaSetDevice(device), "cudaSetDevice");
    check(cudaStreamCreateWithFlags(&s.stream, cudaStreamNonBlocking), "cudaStreamCreate");
    check(cublasCreate(&s.cublas), "cublasCreate");
    check(cublasSetStream(s.cublas, s.stream), "cublasSetStream");
    std::size_t free_bytes = 0;
    check(cudaMemGetInfo(&free_bytes, &s.total_memory), "cudaMemGetInfo");
  });
  return s;
}

}  // namespace

void check(cudaError_t status, const char* what) {
  if (status != cudaSuccess)
    throw Error(std::string(what) + ": " + cudaGetErrorString(status));
}

void check(cublasStatus_t status, const char* what) {
  if (status != CUBLAS_STATUS_SUCCESS)
    throw Error(std::string(what) + ": cuBLAS status " + std::to_string(static_cast<int>(status)));
}

void check_launch(const char* kernel) { check(cudaGetLastError(), kernel); }

cudaStream_t stream(int device) {
  DeviceState& s = state(device);
  check(cudaSetDevice(device), "cudaSetDevice");
  return s.stream;
}

cublasHandle_t cublas(int device) {
  stream(device);
  return state(device).cublas;
}

std::size_t total_memory(int device) { return state(device).total_memory; }

void synchronize(int device) { check(cudaStreamSynchronize(stream(device)), "cudaStreamSynchronize"); }

void copy_bytes(void* dst, bool dst_on_gpu, const void* src, bool src_on_gpu, std::size_t bytes,
                int device) {
  cudaStream_t s = stream(device);
  const cudaMemcpyKind kind = dst_on_gpu ? (src_on_gpu ? cudaMemcpyDeviceToDevice
                                                       : cudaMemcpyHostToDevice)
                                         : cudaMemcpyDeviceToHost;
  check(cudaMemcpyAsync(dst, src, bytes, kind, s), "cudaMemcpyAsync");
  // Pageable host memory: the host side must stay valid until the copy is
  // done, and the caller may free or read it right away.
  if (!dst_on_gpu || !src_on_gpu) check(cudaStreamSynchronize(s), "cudaStreamSynchronize");
}

void copy_between_devices(void* dst, int dst_device, const void* src, int src_device,
                          std::size_t bytes) {
  // The source's producers are queued on its own stream, which the
  // destination's does not wait for; and once this returns the caller may
  // drop the source, whose block the source device's next op may reuse.
  // So: wait for the source, copy, wait for the copy.
  synchronize(src_device);
  cudaStream_t s = stream(dst_device);
  check(cudaMemcpyPeerAsync(dst, dst_device, src, src_device, bytes, s), "cudaMemcpyPeerAsync");
  check(cudaStreamSynchronize(s), "cudaStreamSynchronize");
}

}  // namespace laplex::cuda
