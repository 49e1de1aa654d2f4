#include "core/pinned_memory.h"

#include <algorithm>
#include <cstdlib>
#include <new>

#include "core/device.h"

#if LAPLEX_WITH_CUDA
#include "core/cuda/pinned_allocator.h"
#endif

namespace laplex {

namespace {
constexpr std::size_t kAlignment = 64;
}

HostBuffer::HostBuffer(std::size_t bytes, bool pinned, int cuda_device) : bytes_(bytes) {
#if LAPLEX_WITH_CUDA
  if (pinned && cuda_available()) {
    data_ = cuda::allocate_pinned(bytes, cuda_device);
    pinned_ = data_ != nullptr;
  }
#else
  (void)pinned;
  (void)cuda_device;
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
    cuda::free_pinned(data_);
    return;
  }
#endif
  std::free(data_);
}

}  // namespace laplex
