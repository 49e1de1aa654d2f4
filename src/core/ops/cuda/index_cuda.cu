#include <string>

#include "core/cuda/cuda_context.h"
#include "core/ops/cuda/strided_indexer.cuh"
#include "core/ops/index_kernels.h"

namespace laplex::cuda {

namespace {


// Operand 0 is the output (or scatter target) with its dim stride zeroed,
// 1 the index, 2 the other tensor (x for gather, with its dim stride zeroed;
// src for scatter_add). Indices outside [0, size) are skipped, not checked:
// reporting them would need a host synchronisation.
template <class T, class I>
__global__ void gather_kernel(const T* x, const I* index, T* out, StridedIndexer<3> ix,
                              std::int64_t x_step, std::int64_t size, std::int64_t n) {
  for (std::int64_t k = blockIdx.x * (std::int64_t)blockDim.x + threadIdx.x; k < n;
       k += (std::int64_t)gridDim.x * blockDim.x) {
    std::int64_t off[3];
    ix.offsets(k, off);
    const std::int64_t i = index[off[1]];
    out[off[0]] = (i >= 0 && i < size) ? x[off[2] + i * x_step] : T(0);
  }
}

template <class T, class I>
__global__ void scatter_add_kernel(T* out, const I* index, const T* src, StridedIndexer<3> ix,
                                   std::int64_t out_step, std::int64_t size, std::int64_t n) {
  for (std::int64_t k = blockIdx.x * (std::int64_t)blockDim.x + threadIdx.x; k < n;
       k += (std::int64_t)gridDim.x * blockDim.x) {
    std::int64_t off[3];
    ix.offsets(k, off);
    const std::int64_t i = index[off[1]];
    if (i >= 0 && i < size) atomicAdd(out + off[0] + i * out_step, src[off[2]]);
  }
}

}  // namespace

void gather(const Tensor& x, std::int64_t dim, const Tensor& index, const Tensor& out) {
  const std::int64_t n = index.numel();
  if (n == 0) return;
  const Strides x_strides = without_dim(x.strides(), dim);
  const auto ix = make_indexer<3>(index.shape(), {&out.strides(), &index.strides(), &x_strides});
  cudaStream_t s = stream(x.device().index);
  visit_dtype(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    visit_index(index.dtype(), "gather", [&](auto index_tag) {
      using I = decltype(index_tag);
      gather_kernel<T, I><<<grid_for(n), kBlock, 0, s>>>(x.data<T>(), index.data<I>(),
                                                          out.data<T>(), ix, x.strides()[dim],
                                                          x.shape()[dim], n);
    });
  });
  check_launch("gather_kernel");
}

void scatter_add(const Tensor& out, std::int64_t dim, const Tensor& index, const Tensor& src) {
  const std::int64_t n = index.numel();
  if (n == 0) return;
  const Strides out_strides = without_dim(out.strides(), dim);
  const auto ix =
      make_indexer<3>(index.shape(), {&out_strides, &index.strides(), &src.strides()});
  cudaStream_t s = stream(out.device().index);
  // atomicAdd exists for float and double (sm_60+); integer targets are
  // refused by the op before reaching here.
  visit_floating(out.dtype(), "scatter_add", [&](auto tag) {
    using T = decltype(tag);
    visit_index(index.dtype(), "scatter_add", [&](auto index_tag) {
      using I = decltype(index_tag);
      scatter_add_kernel<T, I><<<grid_for(n), kBlock, 0, s>>>(
          out.data<T>(), index.data<I>(), src.data<T>(), ix, out.strides()[dim],
          out.shape()[dim], n);
    });
  });
  check_launch("scatter_add_kernel");
}

}  // namespace laplex::cuda
