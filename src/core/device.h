#pragma once
// Where a tensor lives: the host ("cpu") or a CUDA device ("cuda:N").
#include <string>

namespace laplex {

struct Device {
  enum class Kind { cpu, cuda };
  Kind kind = Kind::cpu;
  int index = 0;

  static Device cpu() { return {}; }
  static Device cuda(int index = 0) { return {Kind::cuda, index}; }
  // "cpu", "cuda", "cuda:N", or "auto" (cuda:0 when a GPU is present);
  // throws UsageError otherwise.
  static Device parse(const std::string& text);
  // Whether parse() takes `text`, checked without looking for a GPU: for
  // validating a config before anything runs.
  static bool is_name(const std::string& text);

  bool is_cpu() const { return kind == Kind::cpu; }
  bool is_cuda() const { return kind == Kind::cuda; }
  std::string str() const;
  bool operator==(const Device&) const = default;
};

// True when laplex was built with CUDA and at least one GPU can be used.
bool cuda_available();
int cuda_device_count();

// Device::parse for a device a program is about to run on (a --device flag
// or a config's `device`): a CUDA device that this build or machine does
// not have is a UsageError naming it, not a CUDA failure later.
Device usable_device(const std::string& text);

}  // namespace laplex
