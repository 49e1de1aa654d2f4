#pragma once
// The peak resident memory of a piece of CPU work above what was resident
// before it: VmHWM of /proc/self/status, reset through /proc/self/clear_refs
// after malloc_trim(0) has handed every free page back, so that memory the
// work reuses from the heap counts too. Linux >= 4.0.
#include <cstdint>
#include <functional>

namespace laplex::bench {

// Bytes, or -1 when the kernel refuses the reset or has no /proc.
std::int64_t peak_rss_above_current(const std::function<void()>& work);

// MemAvailable of /proc/meminfo in bytes: what a benchmark row may take
// before the kernel's out-of-memory killer ends the whole run; 0 when it
// cannot be read.
double available_memory_bytes();

}  // namespace laplex::bench
