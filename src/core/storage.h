#pragma once
// A block of memory on one device. Tensors share storages through
// shared_ptr; views differ only in shape, strides and offset.
#include <cstddef>
#include <memory>

#include "core/device.h"

namespace laplex {

class Storage {
 public:
  Storage(std::size_t bytes, Device device);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  void* data() const { return data_; }
  std::size_t bytes() const { return bytes_; }
  Device device() const { return device_; }

 private:
  void* data_ = nullptr;
  std::size_t bytes_ = 0;
  Device device_;
};

// Copies bytes between any two devices. Copies that involve a GPU are ordered
// on its compute stream; a copy to the host waits for it to finish.
void copy_bytes(void* dst, Device dst_device, const void* src, Device src_device,
                std::size_t bytes);

}  // namespace laplex
