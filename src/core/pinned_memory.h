#pragma once
// Host memory for staging copies to a GPU. Page-locked ("pinned") memory is
// copied by DMA at full bus speed, while ordinary pageable memory goes
// through a driver bounce buffer at a fraction of it; a data loader fills
// these buffers on its own thread and the copy to the device then costs
// little. Without CUDA, or when pinning fails (locked-memory limits), the
// buffer is ordinary aligned memory and everything still works.
//
//   HostBuffer(bytes, pinned, cuda_device)   pinned: ask for page-locked
//                                            memory, for copies to cuda:cuda_device
//   void* data() const, std::size_t bytes() const, bool pinned() const
#include <cstddef>

namespace laplex {

class HostBuffer {
 public:
  HostBuffer(std::size_t bytes, bool pinned, int cuda_device);
  ~HostBuffer();
  HostBuffer(const HostBuffer&) = delete;
  HostBuffer& operator=(const HostBuffer&) = delete;

  void* data() const { return data_; }
  std::size_t bytes() const { return bytes_; }
  bool pinned() const { return pinned_; }

 private:
  void* data_ = nullptr;
  std::size_t bytes_ = 0;
  bool pinned_ = false;
};

}  // namespace laplex
