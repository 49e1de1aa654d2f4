#include "core/storage.h"

#include <cstdlib>
#include <cstring>
#include <new>

#include "core/error.h"

#if LAPLEX_WITH_CUDA
#include "core/cuda/cuda_allocator.h"
#include "core/cuda/cuda_context.h"
#endif

namespace laplex {

namespace {
// 64-byte alignment: a cache line, and what AVX-512 loads want.
constexpr std::size_t kHostAlignment = 64;
}  // namespace

Storage::Storage(std::size_t bytes, Device device) : bytes_(bytes), device_(device) {
  if (device.is_cpu()) {
    const std::size_t rounded = (std::max<std::size_t>(bytes, 1) + kHostAlignment - 1) /
                                kHostAlignment * kHostAlignment;
    data_ = std::aligned_alloc(kHostAlignment, rounded);
    if (!data_) throw std::bad_alloc();
    return;
  }
#if LAPLEX_WITH_CUDA
  data_ = cuda::allocate(bytes, device.index);
#else
  throw Error("device " + device.str() + " requested, but laplex was built without CUDA");
#endif
}

Storage::~Storage() {
  if (device_.is_cpu()) {
    std::free(data_);
    return;
  }
#if LAPLEX_WITH_CUDA
  cuda::deallocate(data_, bytes_, device_.index);
#endif
}

void copy_bytes(void* dst, Device dst_device, const void* src, Device src_device,
                std::size_t bytes) {
  if (bytes == 0) return;
  if (dst_device.is_cpu() && src_device.is_cpu()) {
    std::memcpy(dst, src, bytes);
    return;
  }
#if LAPLEX_WITH_CUDA
  if (dst_device.is_cuda() && src_device.is_cuda() && dst_device.index != src_device.index) {
    cuda::copy_between_devices(dst, dst_device.index, src, src_device.index, bytes);
    return;
  }
  cuda::copy_bytes(dst, dst_device.is_cuda(), src, src_device.is_cuda(), bytes,
                   dst_device.is_cuda() ? dst_device.index : src_device.index);
#else
  throw Error("copy to or from a CUDA device, but laplex was built without CUDA");
#endif
}

}  // namespace laplex
