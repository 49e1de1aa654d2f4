#include "core/cuda/cuda_context.h"
#include "core/ops/complex_kernels.h"

namespace laplex::cuda {

namespace {

template <class T>
__global__ void complex_mul_kernel(const T* a, std::int64_t period_a, const T* b,
                                   std::int64_t period_b, T* out, std::int64_t count) {
  for (std::int64_t i = blockIdx.x * (std::int64_t)blockDim.x + threadIdx.x; i < count;
       i += (std::int64_t)gridDim.x * blockDim.x) {
    const T* x = a + 2 * (i % period_a);
    const T* y = b + 2 * (i % period_b);
    const T xr = x[0], xi = x[1], yr = y[0], yi = y[1];
    out[2 * i] = xr * yr - xi * yi;
    out[2 * i + 1] = xr * yi + xi * yr;
  }
}

}  // namespace

void complex_mul(const Tensor& a, std::int64_t period_a, const Tensor& b, std::int64_t period_b,
                 const Tensor& out) {
  const std::int64_t count = out.numel() / 2;
  if (count == 0) return;
  cudaStream_t s = stream(out.device().index);
  visit_floating(out.dtype(), "complex_mul", [&](auto tag) {
    using T = decltype(tag);
    complex_mul_kernel<<<grid_for(count), kBlock, 0, s>>>(a.data<T>(), period_a, b.data<T>(),
                                                          period_b, out.data<T>(), count);
  });
  check_launch("complex_mul_kernel");
}

}  // namespace laplex::cuda
