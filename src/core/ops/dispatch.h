#pragma once
// Checks shared by every op before it picks a backend: operands on one
// device and of one dtype, and a CUDA device only in a CUDA build.
#include <initializer_list>

#include "core/tensor.h"

namespace laplex {

// Throws Error naming `op` unless all defined tensors share device and dtype.
void check_same_device(const char* op, std::initializer_list<Tensor> tensors);
void check_same_dtype(const char* op, std::initializer_list<Tensor> tensors);
// True when `t` lives on a GPU; throws in a build without CUDA.
bool use_cuda(const Tensor& t);

}  // namespace laplex
