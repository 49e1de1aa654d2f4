#include "core/device.h"

#include "core/error.h"

#if LAPLEX_WITH_CUDA
#include <cuda_runtime.h>
#endif

namespace laplex {

bool Device::is_name(const std::string& text) {
  if (text == "cpu" || text == "auto" || text == "cuda") return true;
  if (text.rfind("cuda:", 0) != 0) return false;
  const std::string digits = text.substr(5);
  return !digits.empty() && digits.find_first_not_of("0123456789") == std::string::npos &&
         digits.size() < 6;
}

Device Device::parse(const std::string& text) {
  if (!is_name(text))
    throw UsageError("unknown device '" + text + "' (expected auto, cpu, cuda or cuda:N)");
  if (text == "cpu") return cpu();
  if (text == "auto") return cuda_available() ? cuda(0) : cpu();
  if (text == "cuda") return cuda(0);
  return cuda(std::stoi(text.substr(5)));
}

std::string Device::str() const {
  return is_cpu() ? "cpu" : "cuda:" + std::to_string(index);
}

int cuda_device_count() {
#if LAPLEX_WITH_CUDA
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess) {
    cudaGetLastError();  // clear the sticky "no device" error
    return 0;
  }
  return count;
#else
  return 0;
#endif
}

bool cuda_available() { return cuda_device_count() > 0; }

Device usable_device(const std::string& text) {
  const Device device = Device::parse(text);
  if (device.is_cpu()) return device;
#if !LAPLEX_WITH_CUDA
  throw UsageError("device '" + text + "': this build of laplex has no CUDA support");
#else
  const int count = cuda_device_count();
  if (device.index >= count)
    throw UsageError("device '" + text + "': " +
                     (count == 0 ? std::string("no usable CUDA device on this machine")
                                 : "this machine has " + std::to_string(count) +
                                       " CUDA device(s), cuda:0 .. cuda:" +
                                       std::to_string(count - 1)));
  return device;
#endif
}

}  // namespace laplex
