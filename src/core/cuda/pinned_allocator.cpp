#include "core/cuda/pinned_allocator.h"

#include <cuda_runtime.h>

#include <algorithm>

#include "core/cuda/cuda_context.h"

namespace laplex::cuda {

void* allocate_pinned(std::size_t bytes, int device) {
  void* ptr = nullptr;
  if (cudaSetDevice(device) != cudaSuccess ||
      cudaHostAlloc(&ptr, std::max<std::size_t>(bytes, 1), cudaHostAllocPortable) != cudaSuccess) {
    cudaGetLastError();  // clear the sticky error so later calls do not report it
    return nullptr;
  }
  return ptr;
}

void free_pinned(void* ptr) {
  if (ptr) cudaFreeHost(ptr);
}

void copy_from_pinned_async(void* dst, const void* pinned_src, std::size_t bytes, int device) {
  check(cudaMemcpyAsync(dst, pinned_src, bytes, cudaMemcpyHostToDevice, stream(device)),
        "cudaMemcpyAsync");
}

void* record_event(void* event, int device) {
  cudaStream_t s = stream(device);
  auto e = static_cast<cudaEvent_t>(event);
  // Timing off: the event only orders, and a timed one costs more to record.
  if (!e) check(cudaEventCreateWithFlags(&e, cudaEventDisableTiming), "cudaEventCreate");
  check(cudaEventRecord(e, s), "cudaEventRecord");
  return e;
}

void wait_event(void* event, int device) {
  if (!event) return;
  // A loader's worker thread may have no current device yet.
  check(cudaSetDevice(device), "cudaSetDevice");
  check(cudaEventSynchronize(static_cast<cudaEvent_t>(event)), "cudaEventSynchronize");
}

void destroy_event(void* event) {
  if (event) cudaEventDestroy(static_cast<cudaEvent_t>(event));
}

}  // namespace laplex::cuda
