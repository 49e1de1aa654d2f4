#pragma once
// NumPy .npy files (format versions 1.0, 2.0 and 3.0), so arrays move
// between laplex and Python without a converter: np.save writes what
// read_npy reads and np.load reads what write_npy writes.
//
//   Tensor read_npy(path)             '<f4' f32, '<f8' f64, '<i4' i32, '<i8' i64,
//                                     '|u1' and '|i1' widened to i32
//   void   write_npy(path, tensor)    any device and layout; written atomically
//
// Any rank, 0-d and empty arrays included. Fortran-ordered files
// (np.save of a transposed array) are read too: the data is reordered into
// the C order of a laplex tensor. Everything else that a file could get
// wrong (magic, version, header syntax, keys, a big-endian or unsupported
// dtype, missing or extra data bytes) is a UsageError of one line naming the
// file and what was expected.
#include <string>

#include "core/tensor.h"

namespace laplex::data {

Tensor read_npy(const std::string& path);
void write_npy(const std::string& path, const Tensor& tensor);

}  // namespace laplex::data
