#pragma once
// Blocked transposes between batch rows (B, cols) and the scans' lane-major
// layout (cols, W). They run once per call on every input and output value,
// so they get AVX2 8 x 8 (float) and 4 x 4 (double) register transposes.
#include <algorithm>
#include <cstdint>

#if defined(__AVX2__)
#include <immintrin.h>
#endif

namespace laplex::cpu::lanes {

// dst[c * dst_stride + r] = src[r * src_stride + c] for an R x C block.
template <class T>
inline void transpose_scalar(const T* src, std::int64_t src_stride, T* dst,
                             std::int64_t dst_stride, std::int64_t rows, std::int64_t cols) {
  for (std::int64_t c = 0; c < cols; ++c)
    for (std::int64_t r = 0; r < rows; ++r) dst[c * dst_stride + r] = src[r * src_stride + c];
}

#if defined(__AVX2__)
inline void transpose_tile(const float* src, std::int64_t ss, float* dst, std::int64_t ds) {
  const __m256 r0 = _mm256_loadu_ps(src), r1 = _mm256_loadu_ps(src + ss),
               r2 = _mm256_loadu_ps(src + 2 * ss), r3 = _mm256_loadu_ps(src + 3 * ss),
               r4 = _mm256_loadu_ps(src + 4 * ss), r5 = _mm256_loadu_ps(src + 5 * ss),
               r6 = _mm256_loadu_ps(src + 6 * ss), r7 = _mm256_loadu_ps(src + 7 * ss);
  const __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1),
               t2 = _mm256_unpacklo_ps(r2, r3), t3 = _mm256_unpackhi_ps(r2, r3),
               t4 = _mm256_unpacklo_ps(r4, r5), t5 = _mm256_unpackhi_ps(r4, r5),
               t6 = _mm256_unpacklo_ps(r6, r7), t7 = _mm256_unpackhi_ps(r6, r7);
  const __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE),
               u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE),
               u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xEE),
               u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xEE);
  _mm256_storeu_ps(dst, _mm256_permute2f128_ps(u0, u4, 0x20));
  _mm256_storeu_ps(dst + ds, _mm256_permute2f128_ps(u1, u5, 0x20));
  _mm256_storeu_ps(dst + 2 * ds, _mm256_permute2f128_ps(u2, u6, 0x20));
  _mm256_storeu_ps(dst + 3 * ds, _mm256_permute2f128_ps(u3, u7, 0x20));
  _mm256_storeu_ps(dst + 4 * ds, _mm256_permute2f128_ps(u0, u4, 0x31));
  _mm256_storeu_ps(dst + 5 * ds, _mm256_permute2f128_ps(u1, u5, 0x31));
  _mm256_storeu_ps(dst + 6 * ds, _mm256_permute2f128_ps(u2, u6, 0x31));
  _mm256_storeu_ps(dst + 7 * ds, _mm256_permute2f128_ps(u3, u7, 0x31));
}

inline void transpose_tile(const double* src, std::int64_t ss, double* dst, std::int64_t ds) {
  const __m256d r0 = _mm256_loadu_pd(src), r1 = _mm256_loadu_pd(src + ss),
                r2 = _mm256_loadu_pd(src + 2 * ss), r3 = _mm256_loadu_pd(src + 3 * ss);
  const __m256d t0 = _mm256_unpacklo_pd(r0, r1), t1 = _mm256_unpackhi_pd(r0, r1),
                t2 = _mm256_unpacklo_pd(r2, r3), t3 = _mm256_unpackhi_pd(r2, r3);
  _mm256_storeu_pd(dst, _mm256_permute2f128_pd(t0, t2, 0x20));
  _mm256_storeu_pd(dst + ds, _mm256_permute2f128_pd(t1, t3, 0x20));
  _mm256_storeu_pd(dst + 2 * ds, _mm256_permute2f128_pd(t0, t2, 0x31));
  _mm256_storeu_pd(dst + 3 * ds, _mm256_permute2f128_pd(t1, t3, 0x31));
}

template <class T>
inline constexpr std::int64_t kTile = 32 / sizeof(T);
#else
template <class T>
inline constexpr std::int64_t kTile = 0;
#endif

// Bytes of the lane side that one block of the transpose below covers:
// 16-32 KiB were the fastest here (L1 48 KiB).
inline constexpr std::int64_t kTransposeBlockBytes = std::int64_t{16} << 10;

// dst (cols x rows, stride dst_stride) = transpose of src (rows x cols,
// stride src_stride).
template <class T>
void transpose(const T* src, std::int64_t src_stride, T* dst, std::int64_t dst_stride,
               std::int64_t rows, std::int64_t cols) {
  constexpr std::int64_t tile = kTile<T>;
  if constexpr (tile > 0) {
    const std::int64_t full_rows = rows / tile * tile, full_cols = cols / tile * tile;
    if (rows <= cols) {
      // Into lanes: the short side inner; this runs at the speed of a copy.
      for (std::int64_t c = 0; c < full_cols; c += tile)
        for (std::int64_t r = 0; r < full_rows; r += tile)
          transpose_tile(src + r * src_stride + c, src_stride, dst + c * dst_stride + r,
                         dst_stride);
    } else {
      // Out of lanes. The batch rows' stride is a power of two in the usual
      // sizes (2^16 floats: 256 KiB), so the lines a tile column writes all
      // fall in one cache set: with the short side inner, a line written
      // half (one tile) was evicted before its other half came, and was read
      // for ownership twice. So the long side goes in blocks: 8 batch rows
      // at a time take whole lines along the block, whose lane rows stay in
      // L1 for every group of 8. 1.3x faster than before at n = 2^16 here.
      const std::int64_t block = std::max<std::int64_t>(
          2 * tile, kTransposeBlockBytes / (std::max<std::int64_t>(cols, 1) *
                                            static_cast<std::int64_t>(sizeof(T))) /
                        (2 * tile) * (2 * tile));
      for (std::int64_t r0 = 0; r0 < full_rows; r0 += block) {
        const std::int64_t r1 = std::min(r0 + block, full_rows);
        for (std::int64_t c = 0; c < full_cols; c += tile)
          for (std::int64_t r = r0; r < r1; r += tile)
            transpose_tile(src + r * src_stride + c, src_stride, dst + c * dst_stride + r,
                           dst_stride);
      }
    }
    transpose_scalar(src + full_rows * src_stride, src_stride, dst + full_rows, dst_stride,
                     rows - full_rows, cols);
    transpose_scalar(src + full_cols, src_stride, dst + full_cols * dst_stride, dst_stride,
                     full_rows, cols - full_cols);
  } else {
    transpose_scalar(src, src_stride, dst, dst_stride, rows, cols);
  }
}

}  // namespace laplex::cpu::lanes
