#pragma once
// Page-locked host memory (cudaHostAlloc, portable to every device). Used
// through HostBuffer (core/pinned_memory.h), which falls back to ordinary
// memory when this returns null.
#include <cstddef>

namespace laplex::cuda {

// Null when the driver refuses (no device, locked-memory limit reached).
void* allocate_pinned(std::size_t bytes);
void free_pinned(void* ptr);

}  // namespace laplex::cuda
