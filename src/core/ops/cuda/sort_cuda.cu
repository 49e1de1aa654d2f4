#include <cub/device/device_radix_sort.cuh>
#include <cub/device/device_segmented_radix_sort.cuh>

#include <climits>
#include <cmath>
#include <type_traits>

#include "core/cuda/cuda_allocator.h"
#include "core/cuda/cuda_context.h"
#include "core/ops/sort_kernels.h"

namespace laplex::cuda {

namespace {

// CUB's scratch memory, from the caching allocator and handed back even when
// a call throws. Freeing right after the sort is enqueued is safe: later
// users of the block run on the same stream, after the sort.
class Scratch {
 public:
  Scratch(std::size_t bytes, int device)
      : bytes_(bytes > 0 ? bytes : 1), device_(device), ptr_(allocate(bytes_, device)) {}
  ~Scratch() { deallocate(ptr_, bytes_, device_); }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  void* get() const { return ptr_; }

 private:
  std::size_t bytes_;
  int device_;
  void* ptr_;
};

// Row r spans [offsets[r], offsets[r + 1]) (offsets null: rows sorted one
// at a time need none); each element starts out holding
// its position within its row, which the sort carries along as the value.
__global__ void init_rows_kernel(std::int64_t* positions, int* offsets, std::int64_t rows,
                                 std::int64_t len) {
  const std::int64_t n = rows * len;
  for (std::int64_t k = blockIdx.x * (std::int64_t)blockDim.x + threadIdx.x; k < n;
       k += (std::int64_t)gridDim.x * blockDim.x) {
    positions[k] = k % len;
    if (offsets && k % len == 0) offsets[k / len] = static_cast<int>(k);
  }
  if (offsets && blockIdx.x == 0 && threadIdx.x == 0) offsets[rows] = static_cast<int>(n);
}

// CUB orders floats by their bits, which puts a NaN with the sign bit set
// (x86's default NaN from 0/0 or log(-1), or any negated NaN) below -inf and
// orders NaNs by payload. The CPU sort, like PyTorch's, puts every NaN above
// every number and keeps NaNs in index order; sorting a copy of the keys in
// which each NaN is the positive quiet NaN gives that order here too (the
// sorted values then hold that NaN).
template <class T>
__global__ void positive_nan_keys_kernel(const T* x, std::int64_t n, T* keys) {
  for (std::int64_t k = blockIdx.x * (std::int64_t)blockDim.x + threadIdx.x; k < n;
       k += (std::int64_t)gridDim.x * blockDim.x) {
    const T v = x[k];
    keys[k] = v != v ? static_cast<T>(NAN) : v;
  }
}

// CUB's segmented sort gives each row one thread block: right for many
// rows, but a single long row (a covariance model's 3·10^6 anchors) would
// be sorted by one multiprocessor. Such rows are sorted one at a time by
// the device-wide sort, which spreads each over the whole GPU.
bool sort_rows_one_by_one(std::int64_t rows, std::int64_t len) {
  constexpr std::int64_t kLongRow = std::int64_t{1} << 12;
  constexpr std::int64_t kVeryLongRow = std::int64_t{1} << 18;
  return len >= kLongRow && (rows == 1 || (len >= kVeryLongRow && rows <= 16));
}

}  // namespace

void sort_rows(const Tensor& x, std::int64_t rows, std::int64_t len, bool descending,
               const Tensor& values, const Tensor& indices) {
  const std::int64_t n = rows * len;
  if (n == 0) return;
  // CUB counts items (and segments) in int: the segmented sort all the rows'
  // items, the one-at-a-time sort one row's.
  const bool one_by_one = sort_rows_one_by_one(rows, len);
  if ((one_by_one ? len : n) > INT_MAX)
    throw Error(one_by_one ? "sort: a row of more than 2^31 - 1 elements on CUDA"
                           : "sort: more than 2^31 - 1 elements on CUDA");
  const int device = x.device().index;
  cudaStream_t s = stream(device);
  const Tensor positions = Tensor::empty({n}, DType::i64, x.device());
  const Tensor offsets = Tensor::empty({rows + 1}, DType::i32, x.device());
  init_rows_kernel<<<grid_for(n), kBlock, 0, s>>>(
      positions.data<std::int64_t>(), one_by_one ? nullptr : offsets.data<std::int32_t>(), rows,
      len);
  check_launch("init_rows_kernel");
  visit_dtype(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const int* begin = offsets.data<std::int32_t>();
    const T* keys = x.data<T>();
    Tensor nan_free;
    if constexpr (std::is_floating_point_v<T>) {
      nan_free = Tensor::empty({n}, x.dtype(), x.device());
      positive_nan_keys_kernel<<<grid_for(n), kBlock, 0, s>>>(x.data<T>(), n,
                                                              nan_free.data<T>());
      check_launch("positive_nan_keys_kernel");
      keys = nan_free.data<T>();
    }
    // Radix sort is stable, and the descending variant inverts the keys'
    // bits rather than reversing the output, so ties keep index order both
    // ways, like std::stable_sort on the CPU.
    auto run_segmented = [&](void* scratch, std::size_t& bytes) {
      if (descending)
        return cub::DeviceSegmentedRadixSort::SortPairsDescending(
            scratch, bytes, keys, values.data<T>(), positions.data<std::int64_t>(),
            indices.data<std::int64_t>(), static_cast<int>(n), static_cast<int>(rows), begin,
            begin + 1, 0, static_cast<int>(sizeof(T) * 8), s);
      return cub::DeviceSegmentedRadixSort::SortPairs(
          scratch, bytes, keys, values.data<T>(), positions.data<std::int64_t>(),
          indices.data<std::int64_t>(), static_cast<int>(n), static_cast<int>(rows), begin,
          begin + 1, 0, static_cast<int>(sizeof(T) * 8), s);
    };
    auto run_row = [&](void* scratch, std::size_t& bytes, std::int64_t row) {
      const std::int64_t at = row * len;
      if (descending)
        return cub::DeviceRadixSort::SortPairsDescending(
            scratch, bytes, keys + at, values.data<T>() + at,
            positions.data<std::int64_t>() + at, indices.data<std::int64_t>() + at,
            static_cast<int>(len), 0, static_cast<int>(sizeof(T) * 8), s);
      return cub::DeviceRadixSort::SortPairs(
          scratch, bytes, keys + at, values.data<T>() + at,
          positions.data<std::int64_t>() + at, indices.data<std::int64_t>() + at,
          static_cast<int>(len), 0, static_cast<int>(sizeof(T) * 8), s);
    };
    std::size_t bytes = 0;
    if (one_by_one) {
      check(run_row(nullptr, bytes, 0), "cub::DeviceRadixSort (scratch size)");
      Scratch scratch(bytes, device);
      for (std::int64_t row = 0; row < rows; ++row)
        check(run_row(scratch.get(), bytes, row), "cub::DeviceRadixSort");
      return;
    }
    check(run_segmented(nullptr, bytes), "cub::DeviceSegmentedRadixSort (scratch size)");
    Scratch scratch(bytes, device);
    check(run_segmented(scratch.get(), bytes), "cub::DeviceSegmentedRadixSort");
  });
}

}  // namespace laplex::cuda
