#include "core/finite_check.h"

#include <cmath>

namespace laplex {

namespace {

template <class T, class Predicate>
std::int64_t first_where(const Tensor& host, Predicate bad) {
  const T* v = host.data<T>();
  for (std::int64_t i = 0; i < host.numel(); ++i)
    if (bad(static_cast<double>(v[i]))) return i;
  return -1;
}

template <class Predicate>
std::int64_t first_where(const Tensor& t, Predicate bad) {
  if (!is_floating(t.dtype())) return -1;
  // Checkpoints hold up to hundreds of millions of values: no widened copy.
  const Tensor host = t.to(Device::cpu()).contiguous();
  return host.dtype() == DType::f32 ? first_where<float>(host, bad)
                                    : first_where<double>(host, bad);
}

}  // namespace

std::int64_t first_non_finite(const Tensor& t) {
  return first_where(t, [](double v) { return !std::isfinite(v); });
}

std::int64_t first_negative(const Tensor& t) {
  return first_where(t, [](double v) { return !(v >= 0); });
}

}  // namespace laplex
