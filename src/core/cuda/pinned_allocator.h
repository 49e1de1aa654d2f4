#pragma once
// Page-locked host memory (cudaHostAlloc, portable to every device), and the
// event that says when copies out of it are done. Used through HostBuffer
// (core/pinned_memory.h), which falls back to ordinary memory when
// allocate_pinned returns null.
#include <cstddef>

namespace laplex::cuda {

// Null when the driver refuses (no device, locked-memory limit reached).
// Makes `device` current on the calling thread first: a loader's worker
// thread has no current device, and cudaHostAlloc would otherwise create a
// context on GPU 0 (about 0.5 GB there) for a job on cuda:N.
void* allocate_pinned(std::size_t bytes, int device);
void free_pinned(void* ptr);

// Queues a copy of `bytes` from page-locked host memory to cuda:device on
// the device's compute stream and returns at once: the DMA engine reads the
// host bytes when the stream reaches the copy, so the caller must not
// rewrite them before the event recorded after it has passed.
void copy_from_pinned_async(void* dst, const void* pinned_src, std::size_t bytes, int device);

// An event on cuda:device's compute stream after everything queued so far
// (created on first use; pass back the returned handle each time).
void* record_event(void* event, int device);
// Blocks until the event has passed; a null event has nothing to wait for.
void wait_event(void* event, int device);
void destroy_event(void* event);

}  // namespace laplex::cuda
