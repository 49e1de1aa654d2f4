#pragma once
// A dataset from .npy arrays, as NumPy users keep them: inputs.npy of shape
// (N, ...) (any float or integer dtype read_npy knows; converted to float32
// as stored, no scaling) and optionally labels.npy of shape (N,) integers.
//
//   NpyDataset(inputs_path, labels_path = "", classes = 0)   "" = unlabelled
//
// A wrong rank, dtype or count is a UsageError naming the file.
#include <string>

#include "data/tensor_dataset.h"

namespace laplex::data {

class NpyDataset : public TensorDataset {
 public:
  explicit NpyDataset(const std::string& inputs_path, const std::string& labels_path = "",
                      std::int64_t classes = 0);

 private:
  NpyDataset(Tensor inputs, const std::string& labels_path, std::int64_t classes);
};

}  // namespace laplex::data
