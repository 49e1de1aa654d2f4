#pragma once
// Per-device CUDA state: one compute stream and one cuBLAS handle per device,
// created on first use. All laplex kernels and library calls on a device are
// ordered on its compute stream, so no op needs a host synchronisation.
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <cstddef>

namespace laplex::cuda {

// Throws laplex::Error naming `what` when status is not success.
void check(cudaError_t status, const char* what);
void check(cublasStatus_t status, const char* what);
// Checks the last kernel launch.
void check_launch(const char* kernel);

// Makes `device` current on this thread and returns its compute stream.
cudaStream_t stream(int device);
cublasHandle_t cublas(int device);
// Waits for all work queued on the device's compute stream.
void synchronize(int device);
// The device's memory in bytes (cudaMemGetInfo's total, read once).
std::size_t total_memory(int device);

// Copies through the compute stream of `device`; waits when the destination
// is the host so the caller can read the bytes.
void copy_bytes(void* dst, bool dst_on_gpu, const void* src, bool src_on_gpu, std::size_t bytes,
                int device);

// Copies between two devices (peer to peer where the system allows, else
// through the host, as cudaMemcpyPeer does); returns once the copy is done.
void copy_between_devices(void* dst, int dst_device, const void* src, int src_device,
                          std::size_t bytes);

// Threads per block and a grid size for n elements, capped so grid-stride
// loops cover very large n without overflowing gridDim.x.
constexpr int kBlock = 256;
inline unsigned int grid_for(long long n) {
  long long blocks = (n + kBlock - 1) / kBlock;
  if (blocks < 1) blocks = 1;
  if (blocks > 65535LL * 32) blocks = 65535LL * 32;
  return static_cast<unsigned int>(blocks);
}

}  // namespace laplex::cuda
