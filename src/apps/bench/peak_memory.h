#pragma once
// The peak resident memory of a piece of CPU work above what was resident
// before it: VmHWM of /proc/self/status, reset through /proc/self/clear_refs
// after malloc_trim(0) has handed every free page back, so that memory the
// work reuses from the heap counts too. Linux >= 4.0.
#include <cstdint>
#include <functional>
#include <string>

#include "core/device.h"

namespace laplex::bench {

// Bytes, or -1 when the kernel refuses the reset or has no /proc.
std::int64_t peak_rss_above_current(const std::function<void()>& work);

// MemAvailable of /proc/meminfo in bytes: what a benchmark row may take
// before the kernel's out-of-memory killer ends the whole run; 0 when it
// cannot be read.
double available_memory_bytes();

// Whether a row estimated at `bytes` may start on the CPU: at most 90% of
// MemAvailable, the margin for what an estimate leaves out. True when
// MemAvailable cannot be read (nothing to check against).
bool fits_in_memory(double bytes);

// "~X GiB, MemAvailable Y GiB": what a refusal or a skip note says.
std::string memory_need_text(double bytes);

// fits_in_memory for a row on `device`: on a GPU, at most 90% of the
// device's memory (the rest goes to the CUDA context, cuBLAS/cuDNN
// workspaces and the allocator's rounding).
bool fits_on_device(double bytes, const Device& device);

// memory_need_text for `device` ("~X GiB, cuda:0 holds Y GiB" on a GPU).
std::string device_need_text(double bytes, const Device& device);

}  // namespace laplex::bench
