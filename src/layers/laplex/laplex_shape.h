#pragma once
// Sizes and raw parameter pointers of one LAPLEX operator (laplex-math.md
// section 1), shared by the kernels that work on plain buffers. Bias is not
// here: the op adds it.
#include <cmath>
#include <cstdint>
#include <string>

#include "core/error.h"

namespace laplex {

struct LaplexShape {
  std::int64_t batch = 1;  // B: rows of x (B, n) and y (B, m)
  std::int64_t m = 0;      // outputs (targets t)
  std::int64_t n = 0;      // inputs (sources s)
  std::int64_t heads = 1;  // H
  bool phased = false;     // omega and phi are read only when set
};

// Row-major parameters; a null gain means "all ones".
template <class T>
struct LaplexParamPtrs {
  const T* t = nullptr;      // (H, m)
  const T* s = nullptr;      // (H, n)
  const T* u = nullptr;      // (H, m) or null
  const T* v = nullptr;      // (H, n) or null
  const T* rho = nullptr;    // (H), alpha = softplus(rho)
  const T* omega = nullptr;  // (H), phased only
  const T* phi = nullptr;    // (H), phased only
  bool has_gains() const { return u != nullptr || v != nullptr; }
};

// Outputs of the backward; a null pointer means "not needed", and its work
// is skipped. Every non-null output is overwritten, not accumulated into.
template <class T>
struct LaplexGradPtrs {
  T* dx = nullptr;      // (B, n)
  T* dt = nullptr;      // (H, m)
  T* ds = nullptr;      // (H, n)
  T* du = nullptr;      // (H, m), needs u
  T* dv = nullptr;      // (H, n), needs v
  T* drho = nullptr;    // (H)
  T* domega = nullptr;  // (H), zero when unphased
  T* dphi = nullptr;    // (H), zero when unphased
};

// softplus without overflow for large rho.
template <class T>
T laplex_softplus(T rho) {
  return rho > T(30) ? rho : std::log1p(std::exp(rho));
}

template <class T>
T laplex_sigmoid(T rho) {
  if (rho >= 0) return T(1) / (T(1) + std::exp(-rho));
  const T e = std::exp(rho);
  return e / (T(1) + e);
}

// Throws Error when the sizes cannot describe an operator the kernels handle.
inline void check_laplex_shape(const LaplexShape& shape) {
  check(shape.batch >= 0 && shape.m >= 0 && shape.n >= 0 && shape.heads >= 1,
        "laplex: sizes must be non-negative and heads >= 1 (batch " +
            std::to_string(shape.batch) + ", m " + std::to_string(shape.m) + ", n " +
            std::to_string(shape.n) + ", heads " + std::to_string(shape.heads) + ")");
  // Event codes keep the index in 31 bits, on the CPU and on the GPU (where
  // the code 2^32 - 1 marks padding, so m = 2^31 would lose its last row).
  check(shape.m < (std::int64_t{1} << 31) && shape.n < (std::int64_t{1} << 31),
        "laplex: m and n must be below 2^31 (got m " + std::to_string(shape.m) + ", n " +
            std::to_string(shape.n) + ")");
}

}  // namespace laplex
