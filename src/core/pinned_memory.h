#pragma once
// Host memory for staging copies to a GPU. Page-locked ("pinned") memory is
// copied by DMA at full bus speed and asynchronously, while ordinary
// pageable memory goes through a driver bounce buffer at a fraction of it
// and the copy has to be waited for; a data loader fills these buffers on
// its own thread, queues their copies to the device without waiting for the
// GPU, and refills a buffer once its copies are done. Without CUDA, or when
// pinning fails (locked-memory limits), the buffer is ordinary aligned
// memory and everything still works, with waiting copies.
//
//   HostBuffer(bytes, pinned, cuda_device)   pinned: ask for page-locked
//                                            memory, for copies to cuda:cuda_device
//   void* data() const, std::size_t bytes() const, bool pinned() const
//   void copy_to_device(void* dst, std::size_t offset, std::size_t bytes)
//       bytes [offset, offset + bytes) to dst on cuda:cuda_device, through its
//       compute stream: queued when pinned, else done on return
//   void wait_for_copies()   before rewriting the buffer (the destructor too)
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

  void copy_to_device(void* dst, std::size_t offset, std::size_t bytes);
  void wait_for_copies();

 private:
  void* data_ = nullptr;
  std::size_t bytes_ = 0;
  bool pinned_ = false;
  int cuda_device_ = 0;
  // A cudaEvent_t recorded after this buffer's latest queued copy (null
  // before the first one, and for unpinned memory, whose copies wait).
  void* copies_done_ = nullptr;
};

}  // namespace laplex
