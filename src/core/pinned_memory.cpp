#include "core/pinned_memory.h"

#include <algorithm>
#include <cstdlib>
#include <new>
#include <string>

#include "core/device.h"
#include "core/error.h"
#include "core/storage.h"

#if LAPLEX_WITH_CUDA
#include "core/cuda/pinned_allocator.h"
#endif

namespace laplex {

namespace {
constexpr std::size_t kAlignment = 64;
}

HostBuffer::HostBuffer(std::size_t bytes, bool pinned, int cuda_device)
    : bytes_(bytes), cuda_device_(cuda_device) {
#if LAPLEX_WITH_CUDA
  if (pinned && cuda_available()) {
    data_ = cuda::allocate_pinned(bytes, cuda_device);
    pinned_ = data_ != nullptr;
  }
#else
  (void)pinned;
#endif
  if (!data_) {
    const std::size_t rounded =
        (std::max<std::size_t>(bytes, 1) + kAlignment - 1) / kAlignment * kAlignment;
    data_ = std::aligned_alloc(kAlignment, rounded);
    if (!data_) throw std::bad_alloc();
  }
}

HostBuffer::~HostBuffer() {
#if LAPLEX_WITH_CUDA
  if (pinned_) {
    // The DMA engine may still be reading: freeing now would hand it
    // memory the next allocation reuses. A failed wait (a broken device)
    // cannot be reported from a destructor; the memory is freed anyway.
    try {
      wait_for_copies();
    } catch (const Error&) {
    }
    cuda::destroy_event(copies_done_);
    cuda::free_pinned(data_);
    return;
  }
#endif
  std::free(data_);
}

void HostBuffer::copy_to_device(void* dst, std::size_t offset, std::size_t bytes) {
  if (offset > bytes_ || bytes > bytes_ - offset)
    throw Error("HostBuffer: copy of " + std::to_string(bytes) + " bytes at offset " +
                std::to_string(offset) + " from a buffer of " + std::to_string(bytes_));
  if (bytes == 0) return;
  const char* src = static_cast<const char*>(data_) + offset;
#if LAPLEX_WITH_CUDA
  if (pinned_) {
    cuda::copy_from_pinned_async(dst, src, bytes, cuda_device_);
    copies_done_ = cuda::record_event(copies_done_, cuda_device_);
    return;
  }
#endif
  copy_bytes(dst, Device::cuda(cuda_device_), src, Device::cpu(), bytes);
}

void HostBuffer::wait_for_copies() {
#if LAPLEX_WITH_CUDA
  cuda::wait_event(copies_done_, cuda_device_);
#endif
}

}  // namespace laplex
