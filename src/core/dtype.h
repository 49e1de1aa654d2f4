#pragma once
// Element types. f32 is the compute type; f64 serves oracles and gradient
// checks; i32/i64 hold indices (argmax, sort permutations, labels).
#include <cstddef>
#include <cstdint>
#include <string>

namespace laplex {

enum class DType { f32, f64, i32, i64 };

std::size_t dtype_size(DType dtype);
std::string dtype_name(DType dtype);
DType parse_dtype(const std::string& name);  // "float32"/"f32", ... ; throws UsageError
bool is_floating(DType dtype);

template <class T>
constexpr DType dtype_of();
template <> constexpr DType dtype_of<float>() { return DType::f32; }
template <> constexpr DType dtype_of<double>() { return DType::f64; }
template <> constexpr DType dtype_of<std::int32_t>() { return DType::i32; }
template <> constexpr DType dtype_of<std::int64_t>() { return DType::i64; }

// Calls fn with a value-initialised T for the tensor's dtype, so one generic
// lambda serves all four element types: visit_dtype(d, [&](auto tag) {
// using T = decltype(tag); ... }).
template <class Fn>
decltype(auto) visit_dtype(DType dtype, Fn&& fn) {
  switch (dtype) {
    case DType::f32: return fn(float{});
    case DType::f64: return fn(double{});
    case DType::i32: return fn(std::int32_t{});
    case DType::i64: break;
  }
  return fn(std::int64_t{});
}

// Same, for the floating types only; throws for integer dtypes.
void throw_not_floating(DType dtype, const char* op);
template <class Fn>
decltype(auto) visit_floating(DType dtype, const char* op, Fn&& fn) {
  if (dtype == DType::f64) return fn(double{});
  if (dtype != DType::f32) throw_not_floating(dtype, op);
  return fn(float{});
}

}  // namespace laplex
