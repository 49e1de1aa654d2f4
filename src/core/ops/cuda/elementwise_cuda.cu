#include "core/cuda/cuda_context.h"
#include "core/ops/cuda/strided_indexer.cuh"
#include "core/ops/elementwise_kernels.h"

namespace laplex::cuda {

using namespace elementwise;

namespace {

template <class T, class F>
__global__ void unary_contiguous(const T* in, T* out, UnaryArgs<T> args, F f, std::int64_t n) {
  for (std::int64_t i = blockIdx.x * (std::int64_t)blockDim.x + threadIdx.x; i < n;
       i += (std::int64_t)gridDim.x * blockDim.x)
    out[i] = f(in[i], args);
}

template <class T, class F>
__global__ void unary_strided(const T* in, T* out, UnaryArgs<T> args, F f, StridedIndexer<2> ix,
                              std::int64_t n) {
  for (std::int64_t i = blockIdx.x * (std::int64_t)blockDim.x + threadIdx.x; i < n;
       i += (std::int64_t)gridDim.x * blockDim.x) {
    std::int64_t off[2];
    ix.offsets(i, off);
    out[off[0]] = f(in[off[1]], args);
  }
}

template <class T, class F>
__global__ void binary_contiguous(const T* a, const T* b, T* out, F f, std::int64_t n) {
  for (std::int64_t i = blockIdx.x * (std::int64_t)blockDim.x + threadIdx.x; i < n;
       i += (std::int64_t)gridDim.x * blockDim.x)
    out[i] = f(a[i], b[i]);
}

template <class T, class F>
__global__ void binary_strided(const T* a, const T* b, T* out, F f, StridedIndexer<3> ix,
                               std::int64_t n) {
  for (std::int64_t i = blockIdx.x * (std::int64_t)blockDim.x + threadIdx.x; i < n;
       i += (std::int64_t)gridDim.x * blockDim.x) {
    std::int64_t off[3];
    ix.offsets(i, off);
    out[off[0]] = f(a[off[1]], b[off[2]]);
  }
}

template <class C, class T>
__global__ void where_kernel(const C* c, const T* a, const T* b, T* out, StridedIndexer<4> ix,
                             std::int64_t n) {
  for (std::int64_t i = blockIdx.x * (std::int64_t)blockDim.x + threadIdx.x; i < n;
       i += (std::int64_t)gridDim.x * blockDim.x) {
    std::int64_t off[4];
    ix.offsets(i, off);
    out[off[0]] = c[off[1]] != C(0) ? a[off[2]] : b[off[3]];
  }
}

}  // namespace

void unary(Unary op, const Tensor& x, const Tensor& out, double p0, double p1) {
  const std::int64_t n = out.numel();
  if (n == 0) return;
  cudaStream_t s = stream(out.device().index);
  const Strides xs = broadcast_strides(x.shape(), x.strides(), out.shape());
  const auto ix = make_indexer<2>(out.shape(), {&out.strides(), &xs});
  const bool dense = x.is_contiguous() && x.shape() == out.shape();
  visit_floating(x.dtype(), "elementwise", [&](auto tag) {
    using T = decltype(tag);
    const UnaryArgs<T> args{static_cast<T>(p0), static_cast<T>(p1)};
    visit_unary(op, [&](auto f) {
      if (dense)
        unary_contiguous<<<grid_for(n), kBlock, 0, s>>>(x.data<T>(), out.data<T>(), args, f, n);
      else
        unary_strided<<<grid_for(n), kBlock, 0, s>>>(x.data<T>(), out.data<T>(), args, f, ix, n);
    });
  });
  check_launch("unary elementwise kernel");
}

void binary(Binary op, const Tensor& a, const Tensor& b, const Tensor& out) {
  const std::int64_t n = out.numel();
  if (n == 0) return;
  cudaStream_t s = stream(out.device().index);
  const Strides as = broadcast_strides(a.shape(), a.strides(), out.shape());
  const Strides bs = broadcast_strides(b.shape(), b.strides(), out.shape());
  const auto ix = make_indexer<3>(out.shape(), {&out.strides(), &as, &bs});
  const bool dense = a.is_contiguous() && b.is_contiguous() && a.shape() == out.shape() &&
                     b.shape() == out.shape();
  visit_floating(a.dtype(), "elementwise", [&](auto tag) {
    using T = decltype(tag);
    visit_binary(op, [&](auto f) {
      if (dense)
        binary_contiguous<<<grid_for(n), kBlock, 0, s>>>(a.data<T>(), b.data<T>(), out.data<T>(),
                                                         f, n);
      else
        binary_strided<<<grid_for(n), kBlock, 0, s>>>(a.data<T>(), b.data<T>(), out.data<T>(), f,
                                                      ix, n);
    });
  });
  check_launch("binary elementwise kernel");
}

void where(const Tensor& cond, const Tensor& a, const Tensor& b, const Tensor& out) {
  const std::int64_t n = out.numel();
  if (n == 0) return;
  const Strides cs = broadcast_strides(cond.shape(), cond.strides(), out.shape());
  const Strides as = broadcast_strides(a.shape(), a.strides(), out.shape());
  const Strides bs = broadcast_strides(b.shape(), b.strides(), out.shape());
  const auto ix = make_indexer<4>(out.shape(), {&out.strides(), &cs, &as, &bs});
  visit_dtype(cond.dtype(), [&](auto ctag) {
    using C = decltype(ctag);
    visit_floating(a.dtype(), "where", [&](auto tag) {
      using T = decltype(tag);
      where_kernel<<<grid_for(n), kBlock, 0, stream(out.device().index)>>>(
          cond.data<C>(), a.data<T>(), b.data<T>(), out.data<T>(), ix, n);
    });
  });
  check_launch("where_kernel");
}

}  // namespace laplex::cuda
