#pragma once
// Device building blocks of the LAPLEX scans (laplex-math.md section 2): the
// scan state of one batch row, its associative combine, and block-wide
// exclusive scans in either direction.
//
// A scan step over a gap D with decay e = exp(-lam D) is the affine map
//   sigma' = e sigma + add,   mu' = e mu + (D e) sigma
// (mu: the first moment, only when kMoments). Composing steps gives a map
// of the same form, described by (E, S, val, mom): E the product of the
// decays, S the summed gaps, and (val, mom) the state it produces from zero.
// Composing, `a` first:  E = Ea Eb,  S = Sa + Sb,
//   val = Eb val_a + val_b,  mom = Eb mom_a + (Sb Eb) val_a + mom_b.
// Decays are carried as products, so no exp is evaluated inside the scans
// of totals, and an underflowed product stays an exact 0.
#include <cuda_runtime.h>

#include <cstdint>
#include <type_traits>

namespace laplex::cuda::scan {

template <class T>
struct Complex {
  T re, im;
};

template <class C>
inline constexpr bool kIsComplex = !std::is_floating_point_v<C>;

// Scalar algebra shared by real states (unphased heads) and complex ones.
template <class T>
__device__ __forceinline__ T mul(T a, T b) { return a * b; }
template <class T>
__device__ __forceinline__ Complex<T> mul(Complex<T> a, Complex<T> b) {
  return {a.re * b.re - a.im * b.im, a.re * b.im + a.im * b.re};
}
template <class T>
__device__ __forceinline__ T add(T a, T b) { return a + b; }
template <class T>
__device__ __forceinline__ Complex<T> add(Complex<T> a, Complex<T> b) {
  return {a.re + b.re, a.im + b.im};
}
template <class T>
__device__ __forceinline__ T scale(T s, T a) { return s * a; }
template <class T>
__device__ __forceinline__ Complex<T> scale(T s, Complex<T> a) { return {s * a.re, s * a.im}; }
template <class T>
__device__ __forceinline__ T add_real(T a, T r) { return a + r; }
template <class T>
__device__ __forceinline__ Complex<T> add_real(Complex<T> a, T r) { return {a.re + r, a.im}; }
template <class T>
__device__ __forceinline__ T conj(T a) { return a; }
template <class T>
__device__ __forceinline__ Complex<T> conj(Complex<T> a) { return {a.re, -a.im}; }
template <class T>
__device__ __forceinline__ T real_part(T a) { return a; }
template <class T>
__device__ __forceinline__ T real_part(Complex<T> a) { return a.re; }
template <class T>
__device__ __forceinline__ T imag_part(T) { return T(0); }
template <class T>
__device__ __forceinline__ T imag_part(Complex<T> a) { return a.im; }

template <class C, class T>
__device__ __forceinline__ C zero_state() {
  if constexpr (kIsComplex<C>)
    return C{T(0), T(0)};
  else
    return C(0);
}
template <class C, class T>
__device__ __forceinline__ C one_state() {
  if constexpr (kIsComplex<C>)
    return C{T(1), T(0)};
  else
    return C(1);
}

template <class T>
__device__ __forceinline__ T exp_of(T a) {
  if constexpr (sizeof(T) == 4)
    return expf(a);
  else
    return exp(a);
}

// exp(-(alpha - i w) D) = exp(-alpha D) (cos(w D) + i sin(w D)): the decay of
// an ascending step with rate lam (w = omega) or conj(lam) (w = -omega).
// An underflowed magnitude gives an exact 0 without the rotation: over a gap
// too large for T (inf), sincos would give NaN and 0 * NaN is NaN.
template <class C, class T>
__device__ __forceinline__ C decay(T alpha, T w, T d) {
  const T magnitude = exp_of(-alpha * d);
  if (magnitude == T(0)) return zero_state<C, T>();
  if constexpr (kIsComplex<C>) {
    T s, c;
    if constexpr (sizeof(T) == 4)
      sincosf(w * d, &s, &c);
    else
      sincos(w * d, &s, &c);
    return C{magnitude * c, magnitude * s};
  } else {
    return magnitude;
  }
}

template <class T>
__device__ __forceinline__ bool is_zero(T a) { return a == T(0); }
template <class T>
__device__ __forceinline__ bool is_zero(Complex<T> a) { return a.re == T(0) && a.im == T(0); }

// D e, the weight of the state in a moment step (mu' = e mu + (D e) sigma):
// 0 where the decay underflowed, so a gap or a sum of gaps too large for T
// (inf) gives 0, not 0 * inf.
template <class T, class C>
__device__ __forceinline__ C gap_times(T gap, C e) {
  return is_zero(e) ? zero_state<C, T>() : scale(gap, e);
}

template <class T, class C, bool kMoments>
struct Agg {
  C e;    // product of the decays
  T gap;  // summed gaps (read only with moments)
  C val;
  C mom;  // first moment (only with moments)
};

template <class T, class C, bool kMoments>
__device__ __forceinline__ Agg<T, C, kMoments> identity() {
  return {one_state<C, T>(), T(0), zero_state<C, T>(), zero_state<C, T>()};
}

// `a` first, then `b`.
template <class T, class C, bool kMoments>
__device__ __forceinline__ Agg<T, C, kMoments> combine(const Agg<T, C, kMoments>& a,
                                                       const Agg<T, C, kMoments>& b) {
  Agg<T, C, kMoments> out;
  out.e = mul(a.e, b.e);
  out.val = add(mul(b.e, a.val), b.val);
  if constexpr (kMoments) {
    out.gap = a.gap + b.gap;
    out.mom = add(add(mul(b.e, a.mom), mul(gap_times(b.gap, b.e), a.val)), b.mom);
  } else {
    out.gap = T(0);
    out.mom = a.mom;
  }
  return out;
}

template <class T>
__device__ __forceinline__ T shuffle(T v, int delta, bool down) {
  return down ? __shfl_down_sync(0xffffffffu, v, delta) : __shfl_up_sync(0xffffffffu, v, delta);
}
template <class T>
__device__ __forceinline__ Complex<T> shuffle(Complex<T> v, int delta, bool down) {
  return {shuffle(v.re, delta, down), shuffle(v.im, delta, down)};
}
template <class T, class C, bool kMoments>
__device__ __forceinline__ Agg<T, C, kMoments> shuffle(const Agg<T, C, kMoments>& a, int delta,
                                                       bool down) {
  Agg<T, C, kMoments> out;
  out.e = shuffle(a.e, delta, down);
  out.val = shuffle(a.val, delta, down);
  if constexpr (kMoments) {
    out.gap = shuffle(a.gap, delta, down);
    out.mom = shuffle(a.mom, delta, down);
  } else {
    out.gap = T(0);
    out.mom = a.mom;
  }
  return out;
}

// Exclusive scan of one value per thread across the block, in thread order
// (kDescending = false) or reverse thread order; `total` receives the whole
// block's combination. `smem` holds at least 33 entries; every thread of
// the block must call this.
template <bool kDescending, class T, class C, bool kMoments>
__device__ Agg<T, C, kMoments> block_exclusive_scan(const Agg<T, C, kMoments>& mine,
                                                    Agg<T, C, kMoments>* smem,
                                                    Agg<T, C, kMoments>& total) {
  using A = Agg<T, C, kMoments>;
  const int lane = threadIdx.x & 31;
  const int warp = threadIdx.x >> 5;
  const int warps = blockDim.x >> 5;
  A inclusive = mine;
  for (int d = 1; d < 32; d <<= 1) {
    const A other = shuffle(inclusive, d, kDescending);
    if (kDescending ? lane + d < 32 : lane >= d) inclusive = combine(other, inclusive);
  }
  A exclusive = shuffle(inclusive, 1, kDescending);
  if (kDescending ? lane == 31 : lane == 0) exclusive = identity<T, C, kMoments>();
  if (kDescending ? lane == 0 : lane == 31) smem[warp] = inclusive;
  __syncthreads();
  if (warp == 0) {
    A warp_total = lane < warps ? smem[lane] : identity<T, C, kMoments>();
    A warp_inclusive = warp_total;
    for (int d = 1; d < 32; d <<= 1) {
      const A other = shuffle(warp_inclusive, d, kDescending);
      if (kDescending ? lane + d < 32 : lane >= d) warp_inclusive = combine(other, warp_inclusive);
    }
    A warp_exclusive = shuffle(warp_inclusive, 1, kDescending);
    if (kDescending ? lane == 31 : lane == 0) warp_exclusive = identity<T, C, kMoments>();
    if (lane < warps) smem[lane] = warp_exclusive;
    if (kDescending ? lane == 0 : lane == 31) smem[32] = warp_inclusive;
  }
  __syncthreads();
  const A result = combine(smem[warp], exclusive);
  total = smem[32];
  __syncthreads();  // smem is reused by the caller's next scan
  return result;
}

// Float keys: unsigned integers with the order of the floats (-0 as +0).
__device__ __forceinline__ std::uint32_t to_key(float position) {
  const std::uint32_t bits = __float_as_uint(position + 0.0f);
  return (bits & 0x80000000u) ? ~bits : (bits | 0x80000000u);
}
__device__ __forceinline__ std::uint64_t to_key(double position) {
  const auto bits = static_cast<std::uint64_t>(__double_as_longlong(position + 0.0));
  constexpr std::uint64_t sign = std::uint64_t{1} << 63;
  return (bits & sign) ? ~bits : (bits | sign);
}
__device__ __forceinline__ float from_key(std::uint32_t key) {
  return __uint_as_float((key & 0x80000000u) ? (key & 0x7fffffffu) : ~key);
}
__device__ __forceinline__ double from_key(std::uint64_t key) {
  constexpr std::uint64_t sign = std::uint64_t{1} << 63;
  return __longlong_as_double(static_cast<long long>((key & sign) ? (key & ~sign) : ~key));
}

template <class T>
using KeyOf = std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>;

}  // namespace laplex::cuda::scan
