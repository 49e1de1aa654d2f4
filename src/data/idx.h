#pragma once
// The IDX format of MNIST and Fashion-MNIST: a big-endian magic number
// (0x00000800 | type << 8 | rank), the dims as big-endian uint32, then the
// data. Read plain or gzip-compressed (zlib), with every size checked: a
// wrong magic, a truncated file or an image/label count mismatch is a
// UsageError naming the file.
#include <string>

#include "core/tensor.h"

namespace laplex::data {

// Unsigned-byte IDX file as an int32 tensor of its dims (values 0..255).
Tensor read_idx_ubyte(const std::string& path);

struct ImageClassificationSplit {
  Tensor images;  // (N, 1, H, W) float32 in [0, 1]
  Tensor labels;  // (N,) int64
};

// {train,t10k}-{images-idx3,labels-idx1}-ubyte(.gz) under root; split is
// "train" or "test".
ImageClassificationSplit load_mnist_format(const std::string& root, const std::string& split);

}  // namespace laplex::data
