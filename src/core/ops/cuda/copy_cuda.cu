#include "core/cuda/cuda_context.h"
#include "core/ops/copy.h"
#include "core/ops/cuda/strided_indexer.cuh"

namespace laplex::cuda {

namespace {

template <class S, class D>
__global__ void copy_kernel(const S* in, D* out, StridedIndexer<2> ix, std::int64_t n) {
  for (std::int64_t i = blockIdx.x * (std::int64_t)blockDim.x + threadIdx.x; i < n;
       i += (std::int64_t)gridDim.x * blockDim.x) {
    std::int64_t off[2];
    ix.offsets(i, off);
    out[off[0]] = static_cast<D>(in[off[1]]);
  }
}

template <class T>
__global__ void fill_kernel(T* out, StridedIndexer<1> ix, T value, std::int64_t n) {
  for (std::int64_t i = blockIdx.x * (std::int64_t)blockDim.x + threadIdx.x; i < n;
       i += (std::int64_t)gridDim.x * blockDim.x) {
    std::int64_t off[1];
    ix.offsets(i, off);
    out[off[0]] = value;
  }
}

}  // namespace

void copy_into(const Tensor& src, const Tensor& dst) {
  const int device = dst.device().index;
  cudaStream_t s = stream(device);
  const std::int64_t n = dst.numel();
  if (n == 0) return;
  if (src.dtype() == dst.dtype() && src.shape() == dst.shape() && src.is_contiguous() &&
      dst.is_contiguous()) {
    check(cudaMemcpyAsync(dst.raw_data(), src.raw_data(), n * dtype_size(src.dtype()),
                          cudaMemcpyDeviceToDevice, s),
          "cudaMemcpyAsync");
    return;
  }
  const Strides src_strides = broadcast_strides(src.shape(), src.strides(), dst.shape());
  const auto ix = make_indexer<2>(dst.shape(), {&dst.strides(), &src_strides});
  visit_dtype(src.dtype(), [&](auto src_tag) {
    using S = decltype(src_tag);
    visit_dtype(dst.dtype(), [&](auto dst_tag) {
      using D = decltype(dst_tag);
      copy_kernel<S, D><<<grid_for(n), kBlock, 0, s>>>(src.data<S>(), dst.data<D>(), ix, n);
    });
  });
  check_launch("copy_kernel");
}

void fill_tensor(const Tensor& dst, double value) {
  const std::int64_t n = dst.numel();
  if (n == 0) return;
  const auto ix = make_indexer<1>(dst.shape(), {&dst.strides()});
  visit_dtype(dst.dtype(), [&](auto tag) {
    using T = decltype(tag);
    fill_kernel<T><<<grid_for(n), kBlock, 0, stream(dst.device().index)>>>(
        dst.data<T>(), ix, static_cast<T>(value), n);
  });
  check_launch("fill_kernel");
}

}  // namespace laplex::cuda
