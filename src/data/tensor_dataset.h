#pragma once
// A dataset held in memory as tensors: the IDX (MNIST) splits, generated
// problems, arrays loaded from .npy. Examples are rows of `inputs`.
//
//   TensorDataset(Tensor inputs, Tensor labels = {}, std::int64_t classes = 0)
//     inputs (N, ...) of any dtype and device: kept as contiguous float32 on the host
//     labels (N,) integer, or undefined for an unlabelled set: kept as int64
//     classes 0: max label + 1
//   TensorDataset(const ImageClassificationSplit&)
//   const Tensor& inputs() const, labels() const
#include "core/tensor.h"
#include "data/dataset.h"
#include "data/idx.h"

namespace laplex::data {

class TensorDataset : public Dataset {
 public:
  explicit TensorDataset(Tensor inputs, Tensor labels = Tensor(), std::int64_t classes = 0);
  explicit TensorDataset(const ImageClassificationSplit& split);

  std::int64_t size() const override { return size_; }
  Shape example_shape() const override { return example_shape_; }
  bool has_labels() const override { return labels_.defined(); }
  std::int64_t classes() const override { return classes_; }
  void read(std::int64_t index, std::int64_t epoch, float* out, std::int64_t* label) const override;

  const Tensor& inputs() const { return inputs_; }
  const Tensor& labels() const { return labels_; }

 private:
  Tensor inputs_, labels_;
  std::int64_t size_ = 0;
  Shape example_shape_;
  std::int64_t classes_ = 0;
};

}  // namespace laplex::data
