#pragma once
// Reductions with autograd. `dims` empty means all dims. keepdim keeps the
// reduced dims with size 1.
#include <vector>

#include "core/tensor.h"

namespace laplex {

Tensor sum(const Tensor& x, const std::vector<std::int64_t>& dims = {}, bool keepdim = false);
Tensor mean(const Tensor& x, const std::vector<std::int64_t>& dims = {}, bool keepdim = false);
// Max along one dim (or over all elements when dim is omitted); the gradient
// goes to the first maximal element.
Tensor max(const Tensor& x, std::int64_t dim, bool keepdim = false);
Tensor max(const Tensor& x);
// Index (int64) of the first maximum along dim; no gradient.
Tensor argmax(const Tensor& x, std::int64_t dim, bool keepdim = false);
// Cumulative sum along dim.
Tensor cumsum(const Tensor& x, std::int64_t dim);

}  // namespace laplex
