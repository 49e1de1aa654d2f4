#include "core/ops/dispatch.h"

namespace laplex {

void check_same_device(const char* op, std::initializer_list<Tensor> tensors) {
  const Tensor* first = nullptr;
  for (const Tensor& t : tensors) {
    if (!t.defined()) continue;
    if (!first) {
      first = &t;
    } else if (t.device() != first->device()) {
      throw Error(std::string(op) + ": tensors on different devices (" + first->device().str() +
                  " and " + t.device().str() + ")");
    }
  }
}

void check_same_dtype(const char* op, std::initializer_list<Tensor> tensors) {
  const Tensor* first = nullptr;
  for (const Tensor& t : tensors) {
    if (!t.defined()) continue;
    if (!first) {
      first = &t;
    } else if (t.dtype() != first->dtype()) {
      throw Error(std::string(op) + ": tensors of different dtypes (" +
                  dtype_name(first->dtype()) + " and " + dtype_name(t.dtype()) + ")");
    }
  }
}

bool use_cuda(const Tensor& t) {
  if (!t.device().is_cuda()) return false;
  if (!LAPLEX_WITH_CUDA)
    throw Error("tensor on " + t.device().str() + ", but laplex was built without CUDA");
  return true;
}

}  // namespace laplex
