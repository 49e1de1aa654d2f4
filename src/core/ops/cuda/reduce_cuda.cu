#include "core/cuda/cuda_context.h"
#include "core/ops/cuda/block_reduce.cuh"
#include "core/ops/cuda/cumsum_long_rows.cuh"
#include "core/ops/reduce_kernels.h"

namespace laplex::cuda {

namespace {

// inner == 1: one block per row.
template <class T>
__global__ void sum_rows_kernel(const T* x, T* out, std::int64_t rows, std::int64_t len) {
  __shared__ T partial[kBlock];
  for (std::int64_t row = blockIdx.x; row < rows; row += gridDim.x) {
    T acc = T(0);
    for (std::int64_t r = threadIdx.x; r < len; r += blockDim.x) acc += x[row * len + r];
    const T total = block_tree_sum(acc, partial);
    if (threadIdx.x == 0) out[row] = total;
  }
}

// Few long rows (a whole 3·10^6-element tensor, a batch of 8 such rows)
// would leave all but a few multiprocessors idle with one block per row:
// such rows are cut into segments of kSegment elements, each block sums one
// segment of one row (blockIdx.y), and sum_rows_kernel then adds each row's
// segment sums. Both stages run in a fixed order, so the sum is the same
// from run to run.
constexpr std::int64_t kSegment = std::int64_t{1} << 14;
constexpr std::int64_t kManyRows = 256;

template <class T>
__global__ void sum_segments_kernel(const T* x, T* partials, std::int64_t len,
                                    std::int64_t segments) {
  __shared__ T partial[kBlock];
  const std::int64_t row = blockIdx.y;
  const std::int64_t begin = static_cast<std::int64_t>(blockIdx.x) * kSegment;
  const std::int64_t end = begin + kSegment < len ? begin + kSegment : len;
  T acc = T(0);
  for (std::int64_t r = begin + threadIdx.x; r < end; r += blockDim.x) acc += x[row * len + r];
  const T total = block_tree_sum(acc, partial);
  if (threadIdx.x == 0) partials[row * segments + blockIdx.x] = total;
}

// inner > 1: one thread per output element; neighbouring threads read
// neighbouring addresses, so the loads coalesce.
template <class T>
__global__ void sum_columns_kernel(const T* x, T* out, ReduceGeometry g) {
  const std::int64_t total = g.outer * g.inner;
  for (std::int64_t k = blockIdx.x * (std::int64_t)blockDim.x + threadIdx.x; k < total;
       k += (std::int64_t)gridDim.x * blockDim.x) {
    const std::int64_t o = k / g.inner, i = k % g.inner;
    const T* base = x + o * g.reduced * g.inner + i;
    T acc = T(0);
    for (std::int64_t r = 0; r < g.reduced; ++r) acc += base[r * g.inner];
    out[k] = acc;
  }
}

template <class T>
__global__ void max_kernel(const T* x, T* out, std::int64_t* index, ReduceGeometry g) {
  const std::int64_t total = g.outer * g.inner;
  for (std::int64_t k = blockIdx.x * (std::int64_t)blockDim.x + threadIdx.x; k < total;
       k += (std::int64_t)gridDim.x * blockDim.x) {
    const std::int64_t o = k / g.inner, i = k % g.inner;
    const T* base = x + o * g.reduced * g.inner + i;
    T best = base[0];
    std::int64_t best_r = 0;
    for (std::int64_t r = 1; r < g.reduced; ++r) {
      const T v = base[r * g.inner];
      if (v > best || (v != v && best == best)) {
        best = v;
        best_r = r;
      }
    }
    out[k] = best;
    if (index) index[k] = best_r;
  }
}

// The maximum of a row and the position of its first occurrence, NaN
// winning (the first NaN), as max_kernel's serial walk finds them. Written as
// an order on (value, position) pairs, with the position breaking ties, it
// gives that answer whatever order a tree combines the candidates in.
template <class T>
struct MaxCandidate {
  T value;
  std::int64_t at;
};

template <class T>
__device__ bool precedes(const MaxCandidate<T>& a, const MaxCandidate<T>& b) {
  const bool a_nan = a.value != a.value, b_nan = b.value != b.value;
  if (a_nan != b_nan) return a_nan;
  if (!a_nan && a.value != b.value) return a.value > b.value;
  return a.at < b.at;
}

// Long rows with inner == 1 (the max of a whole parameter, as the optimizer
// checks float64 masters against): one block per (segment, row) instead of
// one thread walking the whole row. Reads len values of each row from
// x + row * len + segment * segment_len; at_in, when given, holds the
// positions those values stand for (the second stage's input, whose values
// are the first stage's winners).
template <class T>
__global__ void max_segments_kernel(const T* x, const std::int64_t* at_in, T* out,
                                    std::int64_t* at_out, std::int64_t len,
                                    std::int64_t segment_len, std::int64_t segments) {
  __shared__ T values[kBlock];
  __shared__ std::int64_t positions[kBlock];
  const std::int64_t row = blockIdx.y;
  const std::int64_t begin = static_cast<std::int64_t>(blockIdx.x) * segment_len;
  const std::int64_t end = begin + segment_len < len ? begin + segment_len : len;
  MaxCandidate<T> best{T(0), -1};
  for (std::int64_t r = begin + threadIdx.x; r < end; r += blockDim.x) {
    const std::int64_t k = row * len + r;
    const MaxCandidate<T> c{x[k], at_in ? at_in[k] : r};
    if (best.at < 0 || precedes(c, best)) best = c;
  }
  values[threadIdx.x] = best.value;
  positions[threadIdx.x] = best.at;
  __syncthreads();
  for (int width = blockDim.x / 2; width > 0; width /= 2) {
    if (threadIdx.x < width) {
      const MaxCandidate<T> mine{values[threadIdx.x], positions[threadIdx.x]};
      const MaxCandidate<T> other{values[threadIdx.x + width], positions[threadIdx.x + width]};
      // A thread whose stretch was empty holds at = -1 and never wins.
      if (other.at >= 0 && (mine.at < 0 || precedes(other, mine))) {
        values[threadIdx.x] = other.value;
        positions[threadIdx.x] = other.at;
      }
    }
    __syncthreads();
  }
  if (threadIdx.x == 0) {
    out[row * segments + blockIdx.x] = values[0];
    if (at_out) at_out[row * segments + blockIdx.x] = positions[0];
  }
}

// Short rows, or inner > 1 (neighbouring threads then read neighbouring
// addresses); long contiguous rows go to cumsum_long_rows.cuh.
template <class T>
__global__ void cumsum_kernel(const T* x, T* out, ReduceGeometry g, bool reverse) {
  const std::int64_t total = g.outer * g.inner;
  for (std::int64_t k = blockIdx.x * (std::int64_t)blockDim.x + threadIdx.x; k < total;
       k += (std::int64_t)gridDim.x * blockDim.x) {
    const std::int64_t o = k / g.inner, i = k % g.inner;
    T acc = T(0);
    for (std::int64_t step = 0; step < g.reduced; ++step) {
      const std::int64_t r = reverse ? g.reduced - 1 - step : step;
      const std::int64_t at = (o * g.reduced + r) * g.inner + i;
      acc += x[at];
      out[at] = acc;
    }
  }
}

// Stage one leaves each segment's winner and its position; stage two picks
// each row's winner among them (one segment of `segments` values), carrying
// the positions through.
template <class T>
void max_long_rows(const Tensor& x, const ReduceGeometry& g, const Tensor& out,
                   const Tensor& index, cudaStream_t s) {
  const std::int64_t segments = (g.reduced + kSegment - 1) / kSegment;
  const Tensor values = Tensor::empty({g.outer * segments}, x.dtype(), x.device());
  const Tensor positions = Tensor::empty({g.outer * segments}, DType::i64, x.device());
  max_segments_kernel<T><<<dim3(static_cast<unsigned int>(segments),
                                static_cast<unsigned int>(g.outer)),
                           kBlock, 0, s>>>(x.data<T>(), nullptr, values.data<T>(),
                                           positions.data<std::int64_t>(), g.reduced, kSegment,
                                           segments);
  check_launch("max_segments_kernel");
  max_segments_kernel<T><<<dim3(1, static_cast<unsigned int>(g.outer)), kBlock, 0, s>>>(
      values.data<T>(), positions.data<std::int64_t>(), out.data<T>(),
      index.defined() ? index.data<std::int64_t>() : nullptr, segments, segments, 1);
}

}  // namespace

void reduce(ReduceOp op, const Tensor& x, const ReduceGeometry& g, const Tensor& out,
            const Tensor& index) {
  const int device = x.device().index;
  cudaStream_t s = stream(device);
  if (out.numel() == 0) return;
  if (op == ReduceOp::max && g.reduced == 0) throw Error("max: reduction over an empty dim");
  visit_floating(x.dtype(), "reduce", [&](auto tag) {
    using T = decltype(tag);
    const std::int64_t segments = (g.reduced + kSegment - 1) / kSegment;
    if (op == ReduceOp::sum && g.inner == 1 && g.outer < kManyRows && segments > 1) {
      const Tensor partials = Tensor::empty({g.outer * segments}, x.dtype(), x.device());
      sum_segments_kernel<<<dim3(static_cast<unsigned int>(segments),
                                 static_cast<unsigned int>(g.outer)),
                            kBlock, 0, s>>>(x.data<T>(), partials.data<T>(), g.reduced, segments);
      check_launch("sum_segments_kernel");
      sum_rows_kernel<<<static_cast<unsigned int>(g.outer), kBlock, 0, s>>>(
          partials.data<T>(), out.data<T>(), g.outer, segments);
    } else if (op == ReduceOp::sum && g.inner == 1) {
      const unsigned int blocks =
          static_cast<unsigned int>(std::min<std::int64_t>(g.outer, 65535LL * 16));
      sum_rows_kernel<<<blocks, kBlock, 0, s>>>(x.data<T>(), out.data<T>(), g.outer, g.reduced);
    } else if (op == ReduceOp::sum) {
      sum_columns_kernel<<<grid_for(g.outer * g.inner), kBlock, 0, s>>>(x.data<T>(),
                                                                        out.data<T>(), g);
    } else if (g.inner == 1 && g.outer < kManyRows && g.reduced >= kBlock * 4) {
      max_long_rows<T>(x, g, out, index, s);
    } else {
      max_kernel<<<grid_for(g.outer * g.inner), kBlock, 0, s>>>(
          x.data<T>(), out.data<T>(), index.defined() ? index.data<std::int64_t>() : nullptr, g);
    }
  });
  check_launch("reduce kernel");
}

void cumsum(const Tensor& x, const ReduceGeometry& g, const Tensor& out, bool reverse) {
  if (out.numel() == 0) return;
  cudaStream_t s = stream(x.device().index);
  visit_floating(x.dtype(), "cumsum", [&](auto tag) {
    using T = decltype(tag);
    if (cumsum_takes_segments(g)) {
      cumsum_long_rows<T>(x, g, out, reverse, s);
      return;
    }
    cumsum_kernel<<<grid_for(g.outer * g.inner), kBlock, 0, s>>>(x.data<T>(), out.data<T>(), g,
                                                                 reverse);
    check_launch("cumsum_kernel");
  });
}

}  // namespace laplex::cuda
