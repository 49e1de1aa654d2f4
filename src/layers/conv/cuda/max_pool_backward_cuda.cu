#include "core/cuda/cuda_context.h"
#include "layers/conv/cuda/max_pool_backward_cuda.h"

namespace laplex::cuda {

namespace {

struct PoolGeometry {
  std::int64_t height, width, kernel, stride, padding, oh, ow;
};

// Whether v replaces best as a window's maximum: larger, or the first NaN
// (the CPU's `beats`).
__device__ __forceinline__ bool beats(float v, float best) {
  return v > best || (isnan(v) && !isnan(best));
}

// The offset in the plane of window (r, q)'s first maximum, over the part
// of the window inside the image.
__device__ std::int64_t window_argmax(const PoolGeometry& g, const float* plane, std::int64_t r,
                                      std::int64_t q) {
  const std::int64_t top = r * g.stride - g.padding, left = q * g.stride - g.padding;
  const std::int64_t y0 = top > 0 ? top : 0, x0 = left > 0 ? left : 0;
  const std::int64_t y1 = top + g.kernel < g.height ? top + g.kernel : g.height;
  const std::int64_t x1 = left + g.kernel < g.width ? left + g.kernel : g.width;
  std::int64_t best = y0 * g.width + x0;
  float best_value = plane[best];
  for (std::int64_t y = y0; y < y1; ++y)
    for (std::int64_t x = x0; x < x1; ++x) {
      const float v = plane[y * g.width + x];
      if (beats(v, best_value)) {
        best_value = v;
        best = y * g.width + x;
      }
    }
  return best;
}

// The windows of one side that hold position p: r with
// r s - pad <= p < r s - pad + k, within [0, outputs).
__device__ void covering(std::int64_t p, std::int64_t stride, std::int64_t padding,
                         std::int64_t kernel, std::int64_t outputs, std::int64_t& first,
                         std::int64_t& last) {
  const std::int64_t shifted = p + padding;  // >= 0
  const std::int64_t low = shifted - kernel + 1;
  first = low <= 0 ? 0 : (low + stride - 1) / stride;
  last = shifted / stride;
  if (last > outputs - 1) last = outputs - 1;
}

__global__ void max_pool_backward_kernel(const float* x, const float* grad_y, float* grad_x,
                                         PoolGeometry g, std::int64_t total) {
  const std::int64_t plane_size = g.height * g.width;
  for (std::int64_t i = blockIdx.x * (std::int64_t)blockDim.x + threadIdx.x; i < total;
       i += (std::int64_t)gridDim.x * blockDim.x) {
    const std::int64_t plane = i / plane_size, offset = i % plane_size;
    const std::int64_t y = offset / g.width, xx = offset % g.width;
    const float* in = x + plane * plane_size;
    const float* grad = grad_y + plane * g.oh * g.ow;
    std::int64_t r0, r1, q0, q1;
    covering(y, g.stride, g.padding, g.kernel, g.oh, r0, r1);
    covering(xx, g.stride, g.padding, g.kernel, g.ow, q0, q1);
    float sum = 0.0f;
    for (std::int64_t r = r0; r <= r1; ++r)
      for (std::int64_t q = q0; q <= q1; ++q)
        if (window_argmax(g, in, r, q) == offset) sum += grad[r * g.ow + q];
    grad_x[i] = sum;
  }
}

}  // namespace

Tensor max_pool2d_backward_cuda(const Tensor& x, const Tensor& grad_y, const Window2d& window) {
  Tensor grad_x = Tensor::empty(x.shape(), DType::f32, x.device());
  const std::int64_t total = x.numel();
  if (total == 0) return grad_x;
  const PoolGeometry g{x.size(2),      x.size(3),      window.kernel,  window.stride,
                       window.padding, grad_y.size(2), grad_y.size(3)};
  max_pool_backward_kernel<<<grid_for(total), kBlock, 0, stream(x.device().index)>>>(
      x.data<float>(), grad_y.data<float>(), grad_x.data<float>(), g, total);
  check_launch("max_pool_backward_kernel");
  return grad_x;
}

}  // namespace laplex::cuda
