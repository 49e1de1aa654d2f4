#include "core/cuda/cuda_allocator.h"

#include <cuda_runtime.h>

#include <array>
#include <map>
#include <unordered_map>
#include <mutex>
#include <string>

#include "core/cuda/cuda_context.h"
#include "core/error.h"

namespace laplex::cuda {

namespace {

constexpr int kMaxDevices = 16;
// Sizes are rounded up so that slightly different requests share blocks:
// to 512 bytes below 1 MiB, to 2 MiB above.
constexpr std::size_t kSmallRound = 512;
constexpr std::size_t kLargeRound = 2u << 20;

std::size_t round_size(std::size_t bytes) {
  const std::size_t unit = bytes < (1u << 20) ? kSmallRound : kLargeRound;
  return (std::max<std::size_t>(bytes, 1) + unit - 1) / unit * unit;
}

struct Pool {
  std::mutex mutex;
  std::multimap<std::size_t, void*> free_blocks;  // block size -> block
  std::unordered_map<void*, std::size_t> live;     // block -> its real size
  AllocatorStats stats;
};

Pool& pool(int device) {
  static std::array<Pool, kMaxDevices> pools;
  if (device < 0 || device >= kMaxDevices)
    throw Error("cuda:" + std::to_string(device) + " is out of range");
  return pools[device];
}

void free_all_locked(Pool& p, int device) {
  if (p.free_blocks.empty()) return;
  check(cudaSetDevice(device), "cudaSetDevice");
  // Blocks may still be read by queued kernels; wait before giving them back.
  check(cudaStreamSynchronize(stream(device)), "cudaStreamSynchronize");
  for (auto& [size, ptr] : p.free_blocks) {
    cudaFree(ptr);
    p.stats.cached -= size;
  }
  p.free_blocks.clear();
}

}  // namespace

void* allocate(std::size_t bytes, int device) {
  Pool& p = pool(device);
  const std::size_t size = round_size(bytes);
  std::lock_guard<std::mutex> lock(p.mutex);
  // Best fit, but never hand out a block more than twice the request, so a
  // small tensor cannot pin a huge block.
  auto it = p.free_blocks.lower_bound(size);
  if (it != p.free_blocks.end() && it->first <= 2 * size) {
    void* ptr = it->second;
    p.stats.cached -= it->first;
    p.stats.in_use += it->first;
    p.stats.peak_in_use = std::max(p.stats.peak_in_use, p.stats.in_use);
    p.live.emplace(ptr, it->first);
    p.free_blocks.erase(it);
    return ptr;
  }
  check(cudaSetDevice(device), "cudaSetDevice");
  void* ptr = nullptr;
  cudaError_t status = cudaMalloc(&ptr, size);
  if (status == cudaErrorMemoryAllocation) {
    cudaGetLastError();
    free_all_locked(p, device);
    status = cudaMalloc(&ptr, size);
  }
  if (status == cudaErrorMemoryAllocation) {
    cudaGetLastError();
    throw OutOfMemory("cuda:" + std::to_string(device) + ": out of memory allocating " +
                      std::to_string(bytes) + " bytes (" + cudaGetErrorString(status) + ")");
  }
  if (status != cudaSuccess)
    throw Error("cuda:" + std::to_string(device) + ": cudaMalloc of " + std::to_string(bytes) +
                " bytes failed (" + cudaGetErrorString(status) + ")");
  p.stats.in_use += size;
  p.stats.peak_in_use = std::max(p.stats.peak_in_use, p.stats.in_use);
  p.live.emplace(ptr, size);
  return ptr;
}

void deallocate(void* ptr, std::size_t /*bytes*/, int device) {
  if (!ptr) return;
  Pool& p = pool(device);
  std::lock_guard<std::mutex> lock(p.mutex);
  auto it = p.live.find(ptr);
  if (it == p.live.end()) return;  // not ours; never happens for Storage
  const std::size_t size = it->second;
  p.live.erase(it);
  p.stats.in_use -= size;
  p.stats.cached += size;
  p.free_blocks.emplace(size, ptr);
}

void release_cached(int device) {
  Pool& p = pool(device);
  std::lock_guard<std::mutex> lock(p.mutex);
  free_all_locked(p, device);
}

AllocatorStats allocator_stats(int device) {
  Pool& p = pool(device);
  std::lock_guard<std::mutex> lock(p.mutex);
  return p.stats;
}

void reset_peak(int device) {
  Pool& p = pool(device);
  std::lock_guard<std::mutex> lock(p.mutex);
  p.stats.peak_in_use = p.stats.in_use;
}

}  // namespace laplex::cuda
