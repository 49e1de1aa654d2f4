#include "apps/bench/peak_memory.h"

#include <malloc.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#if LAPLEX_WITH_CUDA
#include "core/cuda/cuda_context.h"
#endif

namespace laplex::bench {

namespace {

// A field of /proc/self/status in bytes (the kernel reports kB).
std::int64_t status_bytes(const std::string& field) {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind(field + ":", 0) == 0) {
      std::istringstream in(line.substr(field.size() + 1));
      std::int64_t kb = 0;
      in >> kb;
      return kb * 1024;
    }
  return -1;
}

// Resets VmHWM to the current resident set; false if refused.
bool reset_peak_rss() {
  std::ofstream clear("/proc/self/clear_refs");
  clear << "5";
  return static_cast<bool>(clear);
}

}  // namespace

std::int64_t peak_rss_above_current(const std::function<void()>& work) {
  malloc_trim(0);
  if (!reset_peak_rss()) {
    work();
    return -1;
  }
  const std::int64_t before = status_bytes("VmRSS");
  work();
  const std::int64_t peak = status_bytes("VmHWM");
  return before < 0 || peak < 0 ? -1 : peak - before;
}

double available_memory_bytes() {
  std::ifstream meminfo("/proc/meminfo");
  std::string line;
  while (std::getline(meminfo, line))
    if (line.rfind("MemAvailable:", 0) == 0) {
      std::istringstream in(line.substr(13));
      double kib = 0;
      in >> kib;
      return kib * 1024;
    }
  return 0;
}

bool fits_in_memory(double bytes) {
  const double available = available_memory_bytes();
  return available <= 0 || bytes <= 0.9 * available;
}

std::string memory_need_text(double bytes) {
  constexpr double kGiB = double(1 << 30);
  char text[512];
  std::snprintf(text, sizeof text, "~%.1f GiB, MemAvailable %.1f GiB", bytes / kGiB,
                available_memory_bytes() / kGiB);
  return text;
}

namespace {

// The GPU's memory in bytes; 0 for the CPU or a build without CUDA.
double device_memory_bytes(const Device& device) {
#if LAPLEX_WITH_CUDA
  if (device.is_cuda()) return static_cast<double>(cuda::total_memory(device.index));
#endif
  (void)device;
  return 0;
}

}  // namespace

bool fits_on_device(double bytes, const Device& device) {
  if (device.is_cpu()) return fits_in_memory(bytes);
  const double total = device_memory_bytes(device);
  return total <= 0 || bytes <= 0.9 * total;
}

std::string device_need_text(double bytes, const Device& device) {
  if (device.is_cpu()) return memory_need_text(bytes);
  constexpr double kGiB = double(1 << 30);
  char text[512];
  std::snprintf(text, sizeof text, "~%.1f GiB, %s holds %.1f GiB", bytes / kGiB, device.str().c_str(),
                device_memory_bytes(device) / kGiB);
  return text;
}

}  // namespace laplex::bench
