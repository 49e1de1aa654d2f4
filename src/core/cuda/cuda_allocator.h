#pragma once
// A caching allocator for device memory. cudaMalloc/cudaFree synchronise the
// device and cost tens of microseconds, so freed blocks are kept in per-size
// bins and handed out again. All work is on one compute stream per device, so
// a block freed by the host can be reused by later work on that stream
// without an event.
#include <cstddef>

namespace laplex::cuda {

void* allocate(std::size_t bytes, int device);
void deallocate(void* ptr, std::size_t bytes, int device);
// Returns every cached block to the driver (e.g. before a huge allocation).
void release_cached(int device);

struct AllocatorStats {
  std::size_t in_use = 0;       // bytes held by live tensors
  std::size_t cached = 0;       // bytes kept for reuse
  std::size_t peak_in_use = 0;  // high-water mark of in_use
};
AllocatorStats allocator_stats(int device);
void reset_peak(int device);

}  // namespace laplex::cuda
