#include "data/tensor_dataset.h"

#include <algorithm>
#include <cstring>

namespace laplex::data {

TensorDataset::TensorDataset(Tensor inputs, Tensor labels, std::int64_t classes) {
  if (!inputs.defined() || inputs.dim() < 1)
    throw Error("TensorDataset: inputs must be a tensor of shape (N, ...)");
  inputs_ = inputs.to(Device::cpu()).to(DType::f32).contiguous();
  size_ = inputs_.size(0);
  example_shape_.assign(inputs_.shape().begin() + 1, inputs_.shape().end());
  if (labels.defined()) {
    if (is_floating(labels.dtype()) || labels.dim() != 1 || labels.size(0) != size_)
      throw Error("TensorDataset: labels must be integers of shape (" + std::to_string(size_) +
                  ",), got " + labels.str());
    labels_ = labels.to(Device::cpu()).to(DType::i64).contiguous();
    const std::int64_t* y = labels_.data<std::int64_t>();
    std::int64_t largest = -1;
    for (std::int64_t i = 0; i < size_; ++i) {
      if (y[i] < 0) throw Error("TensorDataset: negative label at " + std::to_string(i));
      if (y[i] >= kMaxClasses)
        throw Error("TensorDataset: label " + std::to_string(y[i]) + " at " + std::to_string(i) +
                    " is beyond 2^31 classes");
      largest = std::max(largest, y[i]);
    }
    if (classes > 0 && largest >= classes)
      throw Error("TensorDataset: label " + std::to_string(largest) + " with " +
                  std::to_string(classes) + " classes");
    classes_ = classes > 0 ? classes : largest + 1;
  }
}

TensorDataset::TensorDataset(const ImageClassificationSplit& split)
    : TensorDataset(split.images, split.labels) {}

void TensorDataset::read(std::int64_t index, std::int64_t, float* out, std::int64_t* label) const {
  if (index < 0 || index >= size_)
    throw Error("TensorDataset: index " + std::to_string(index) + " of " + std::to_string(size_));
  const std::int64_t row = numel(example_shape_);
  std::memcpy(out, inputs_.data<float>() + index * row, row * sizeof(float));
  if (label && labels_.defined()) *label = labels_.data<std::int64_t>()[index];
}

}  // namespace laplex::data
