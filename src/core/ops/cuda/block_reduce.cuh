#pragma once
// Block-wide sum and inclusive scan through shared memory, for the
// reduction and cumsum kernels. Every thread of the block must call them,
// with a kBlock-value shared buffer, and may call them again right after.
// Both combine in a fixed order, so results repeat from run to run.
#include "core/cuda/cuda_context.h"

namespace laplex::cuda {

// The sum of every thread's acc (a tree: halves added pairwise).
template <class T>
__device__ T block_tree_sum(T acc, T* partial) {
  partial[threadIdx.x] = acc;
  __syncthreads();
  for (int width = blockDim.x / 2; width > 0; width /= 2) {
    if (threadIdx.x < width) partial[threadIdx.x] += partial[threadIdx.x + width];
    __syncthreads();
  }
  const T total = partial[0];
  __syncthreads();
  return total;
}

// Each thread's inclusive prefix sum over the threads up to it.
template <class T>
__device__ T block_inclusive_scan(T value, T* shared) {
  shared[threadIdx.x] = value;
  __syncthreads();
  for (int offset = 1; offset < blockDim.x; offset *= 2) {
    const T add = threadIdx.x >= offset ? shared[threadIdx.x - offset] : T(0);
    __syncthreads();
    shared[threadIdx.x] += add;
    __syncthreads();
  }
  const T result = shared[threadIdx.x];
  __syncthreads();  // shared is reused by the caller
  return result;
}

}  // namespace laplex::cuda
