#include <cmath>

#include "core/cuda/cuda_context.h"
#include "core/ops/loss_kernels.h"

namespace laplex::cuda {

namespace {

// One block per row; the block reduces max, sum of exp and other row sums
// through shared memory. Class counts are small (tens to thousands).
template <class T>
__device__ T block_reduce(T value, T* scratch, bool take_max) {
  scratch[threadIdx.x] = value;
  __syncthreads();
  for (int width = blockDim.x / 2; width > 0; width /= 2) {
    if (threadIdx.x < width) {
      const T other = scratch[threadIdx.x + width];
      scratch[threadIdx.x] = take_max ? (other > scratch[threadIdx.x] ? other : scratch[threadIdx.x])
                                      : scratch[threadIdx.x] + other;
    }
    __syncthreads();
  }
  const T result = scratch[0];
  __syncthreads();
  return result;
}

template <class T>
__device__ T row_logsumexp(const T* row, std::int64_t c, T* scratch) {
  T top = -INFINITY;
  for (std::int64_t j = threadIdx.x; j < c; j += blockDim.x) top = row[j] > top ? row[j] : top;
  top = block_reduce(top, scratch, true);
  T total = T(0);
  for (std::int64_t j = threadIdx.x; j < c; j += blockDim.x) total += exp(row[j] - top);
  total = block_reduce(total, scratch, false);
  return top + log(total);
}

template <class T>
__global__ void log_softmax_kernel(const T* x, T* out, std::int64_t rows, std::int64_t c) {
  __shared__ T scratch[kBlock];
  for (std::int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const T lse = row_logsumexp(x + r * c, c, scratch);
    for (std::int64_t j = threadIdx.x; j < c; j += blockDim.x) out[r * c + j] = x[r * c + j] - lse;
  }
}

template <class T>
__global__ void log_softmax_backward_kernel(const T* g, const T* logp, T* out, std::int64_t rows,
                                            std::int64_t c) {
  __shared__ T scratch[kBlock];
  for (std::int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    T total = T(0);
    for (std::int64_t j = threadIdx.x; j < c; j += blockDim.x) total += g[r * c + j];
    total = block_reduce(total, scratch, false);
    for (std::int64_t j = threadIdx.x; j < c; j += blockDim.x)
      out[r * c + j] = g[r * c + j] - exp(logp[r * c + j]) * total;
  }
}

template <class T>
__global__ void cross_entropy_kernel(const T* x, const std::int64_t* targets, T* loss, T* grad,
                                     std::int64_t rows, std::int64_t c, T eps) {
  __shared__ T scratch[kBlock];
  const T off = eps / T(c), on = T(1) - eps + eps / T(c), inv_rows = T(1) / T(rows);
  for (std::int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const T* row = x + r * c;
    // Out-of-range targets cannot throw on the device: they give NaN.
    const std::int64_t t = targets[r];
    const bool valid = t >= 0 && t < c;
    const T lse = row_logsumexp(row, c, scratch);
    T sum_logp = T(0);
    for (std::int64_t j = threadIdx.x; j < c; j += blockDim.x) {
      const T logp = row[j] - lse;
      sum_logp += logp;
      grad[r * c + j] = (exp(logp) - (j == t ? on : off)) * inv_rows;
    }
    sum_logp = block_reduce(sum_logp, scratch, false);
    if (threadIdx.x == 0)
      loss[r] = valid ? -((T(1) - eps) * (row[t] - lse) + eps / T(c) * sum_logp) : T(NAN);
  }
}

unsigned int row_blocks(std::int64_t rows) {
  return static_cast<unsigned int>(std::max<std::int64_t>(1, std::min<std::int64_t>(rows, 65535)));
}

}  // namespace

void log_softmax_rows(const Tensor& x, const Tensor& out) {
  const std::int64_t rows = x.size(0), c = x.size(1);
  if (rows == 0) return;
  visit_floating(x.dtype(), "log_softmax", [&](auto tag) {
    using T = decltype(tag);
    log_softmax_kernel<<<row_blocks(rows), kBlock, 0, stream(x.device().index)>>>(
        x.data<T>(), out.data<T>(), rows, c);
  });
  check_launch("log_softmax_kernel");
}

void log_softmax_backward_rows(const Tensor& g, const Tensor& logp, const Tensor& out) {
  const std::int64_t rows = g.size(0), c = g.size(1);
  if (rows == 0) return;
  visit_floating(g.dtype(), "log_softmax", [&](auto tag) {
    using T = decltype(tag);
    log_softmax_backward_kernel<<<row_blocks(rows), kBlock, 0, stream(g.device().index)>>>(
        g.data<T>(), logp.data<T>(), out.data<T>(), rows, c);
  });
  check_launch("log_softmax_backward_kernel");
}

void cross_entropy_rows(const Tensor& logits, const Tensor& targets, double smoothing,
                        const Tensor& loss_rows, const Tensor& grad) {
  const std::int64_t rows = logits.size(0), c = logits.size(1);
  if (rows == 0) return;
  visit_floating(logits.dtype(), "cross_entropy", [&](auto tag) {
    using T = decltype(tag);
    cross_entropy_kernel<<<row_blocks(rows), kBlock, 0, stream(logits.device().index)>>>(
        logits.data<T>(), targets.data<std::int64_t>(), loss_rows.data<T>(), grad.data<T>(), rows,
        c, T(smoothing));
  });
  check_launch("cross_entropy_kernel");
}

}  // namespace laplex::cuda
