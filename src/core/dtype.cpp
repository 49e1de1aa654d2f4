#include "core/dtype.h"

#include "core/error.h"

namespace laplex {

std::size_t dtype_size(DType dtype) {
  switch (dtype) {
    case DType::f32: return 4;
    case DType::f64: return 8;
    case DType::i32: return 4;
    case DType::i64: return 8;
  }
  return 0;
}

std::string dtype_name(DType dtype) {
  switch (dtype) {
    case DType::f32: return "float32";
    case DType::f64: return "float64";
    case DType::i32: return "int32";
    case DType::i64: return "int64";
  }
  return "?";
}

DType parse_dtype(const std::string& name) {
  if (name == "float32" || name == "f32") return DType::f32;
  if (name == "float64" || name == "f64") return DType::f64;
  if (name == "int32" || name == "i32") return DType::i32;
  if (name == "int64" || name == "i64") return DType::i64;
  throw UsageError("unknown dtype '" + name + "' (expected float32, float64, int32 or int64)");
}

bool is_floating(DType dtype) { return dtype == DType::f32 || dtype == DType::f64; }

void throw_not_floating(DType dtype, const char* op) {
  throw Error(std::string(op) + ": expected a float32 or float64 tensor, got " + dtype_name(dtype));
}

}  // namespace laplex
