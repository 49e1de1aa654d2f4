#include "core/cuda/pinned_allocator.h"

#include <cuda_runtime.h>

#include <algorithm>

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

}  // namespace laplex::cuda
