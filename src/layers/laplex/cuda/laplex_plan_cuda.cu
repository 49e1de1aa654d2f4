// The CUDA sort plan: per head, the m + n anchors as order-preserving integer
// keys, sorted with their event codes by one CUB radix sort. Sources are
// laid out before targets and radix sort is stable, so at equal positions
// sources come first and each side keeps index order (laplex-math.md
// section 2), exactly the CPU plan's order.
#include <cub/device/device_radix_sort.cuh>

#include "core/cuda/cuda_allocator.h"
#include "core/cuda/cuda_context.h"
#include "core/error.h"
#include "layers/laplex/cuda/laplex_cuda.h"
#include "layers/laplex/cuda/laplex_scan.cuh"
#include "layers/laplex/laplex_plan.h"

namespace laplex::cuda {

namespace {

template <class T>
__global__ void fill_events_kernel(const T* t, const T* s, std::int64_t m, std::int64_t n,
                                   scan::KeyOf<T>* keys, std::uint32_t* codes) {
  const std::int64_t events = m + n;
  for (std::int64_t k = blockIdx.x * (std::int64_t)blockDim.x + threadIdx.x; k < events;
       k += (std::int64_t)gridDim.x * blockDim.x) {
    if (k < n) {
      keys[k] = scan::to_key(s[k]);
      codes[k] = static_cast<std::uint32_t>(k);
    } else {
      keys[k] = scan::to_key(t[k - n]);
      codes[k] = static_cast<std::uint32_t>(k - n) | kLaplexTargetBit;
    }
  }
}

template <class T>
void sort_head(const T* t, const T* s, std::int64_t m, std::int64_t n, scan::KeyOf<T>* keys,
               std::uint32_t* codes, scan::KeyOf<T>* key_scratch, std::uint32_t* code_scratch,
               int device) {
  using K = scan::KeyOf<T>;
  const std::int64_t events = m + n;
  cudaStream_t st = stream(device);
  fill_events_kernel<T><<<grid_for(events), kBlock, 0, st>>>(t, s, m, n, keys, codes);
  check_launch("laplex fill_events_kernel");
  cub::DoubleBuffer<K> key_buffer(keys, key_scratch);
  cub::DoubleBuffer<std::uint32_t> code_buffer(codes, code_scratch);
  std::size_t bytes = 0;
  check(cub::DeviceRadixSort::SortPairs(nullptr, bytes, key_buffer, code_buffer, events, 0,
                                        static_cast<int>(8 * sizeof(K)), st),
        "laplex plan: cub::DeviceRadixSort (scratch size)");
  void* scratch = allocate(bytes > 0 ? bytes : 1, device);
  const cudaError_t status = cub::DeviceRadixSort::SortPairs(
      scratch, bytes, key_buffer, code_buffer, events, 0, static_cast<int>(8 * sizeof(K)), st);
  deallocate(scratch, bytes > 0 ? bytes : 1, device);
  check(status, "laplex plan: cub::DeviceRadixSort");
  // The sort leaves its result in whichever buffer its last pass wrote.
  if (key_buffer.Current() != keys)
    check(cudaMemcpyAsync(keys, key_buffer.Current(), events * sizeof(K), cudaMemcpyDeviceToDevice,
                          st),
          "laplex plan: copy keys");
  if (code_buffer.Current() != codes)
    check(cudaMemcpyAsync(codes, code_buffer.Current(), events * sizeof(std::uint32_t),
                          cudaMemcpyDeviceToDevice, st),
          "laplex plan: copy codes");
}

}  // namespace

LaplexCudaPlan make_laplex_plan_cuda(const LaplexShape& shape, const Tensor& t, const Tensor& s) {
  check_laplex_shape(shape);
  LaplexCudaPlan plan;
  plan.m = shape.m;
  plan.n = shape.n;
  plan.heads = shape.heads;
  const std::int64_t events = plan.events();
  const Device dev = t.device();
  const DType key_dtype = t.dtype() == DType::f32 ? DType::i32 : DType::i64;
  plan.keys = Tensor::empty({shape.heads, events}, key_dtype, dev);
  plan.codes = Tensor::empty({shape.heads, events}, DType::i32, dev);
  if (events == 0) return plan;
  const Tensor key_scratch = Tensor::empty({events}, key_dtype, dev);
  const Tensor code_scratch = Tensor::empty({events}, DType::i32, dev);
  visit_floating(t.dtype(), "laplex plan", [&](auto tag) {
    using T = decltype(tag);
    using K = scan::KeyOf<T>;
    auto* keys = reinterpret_cast<K*>(plan.keys.raw_data());
    auto* codes = reinterpret_cast<std::uint32_t*>(plan.codes.raw_data());
    for (std::int64_t h = 0; h < shape.heads; ++h)
      sort_head<T>(t.data<T>() + h * shape.m, s.data<T>() + h * shape.n, shape.m, shape.n,
                   keys + h * events, codes + h * events,
                   reinterpret_cast<K*>(key_scratch.raw_data()),
                   reinterpret_cast<std::uint32_t*>(code_scratch.raw_data()), dev.index);
  });
  return plan;
}

}  // namespace laplex::cuda
