#pragma once
// Shapes and strides (in elements), and the broadcasting rules of NumPy.
#include <cstdint>
#include <string>
#include <vector>

namespace laplex {

using Shape = std::vector<std::int64_t>;
using Strides = std::vector<std::int64_t>;

std::int64_t numel(const Shape& shape);
Strides contiguous_strides(const Shape& shape);
std::string shape_str(const Shape& shape);  // "(2, 3)"

// The shape both operands broadcast to; throws Error naming op when they don't.
Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op);
// Strides that read a tensor of (shape, strides) as if it had shape `target`
// (leading dims added, size-1 dims stretched with stride 0).
Strides broadcast_strides(const Shape& shape, const Strides& strides, const Shape& target);

// Normalises a possibly negative dim against rank; throws when out of range.
std::int64_t wrap_dim(std::int64_t dim, std::int64_t rank, const char* op);

}  // namespace laplex
