#pragma once
// Page-locked host memory (cudaHostAlloc, portable to every device). Used
// through HostBuffer (core/pinned_memory.h), which falls back to ordinary
// memory when this returns null.
#include <cstddef>

namespace laplex::cuda {

// Null when the driver refuses (no device, locked-memory limit reached).
// Makes `device` current on the calling thread first: a loader's worker
// thread has no current device, and cudaHostAlloc would otherwise create a
// context on GPU 0 (about 0.5 GB there) for a job on cuda:N.
void* allocate_pinned(std::size_t bytes, int device);
void free_pinned(void* ptr);

}  // namespace laplex::cuda
