#include "data/npy_dataset.h"

#include "data/npy.h"

namespace laplex::data {

namespace {

Tensor load_inputs(const std::string& path) {
  Tensor inputs = read_npy(path);
  if (inputs.dim() < 1)
    throw UsageError(path + ": expected inputs of shape (N, ...), got a 0-d array");
  return inputs;
}

Tensor load_labels(const std::string& path, std::int64_t count, std::int64_t classes) {
  if (path.empty()) return Tensor();
  Tensor labels = read_npy(path);
  if (is_floating(labels.dtype()) || labels.shape() != Shape{count})
    throw UsageError(path + ": expected integer labels of shape (" + std::to_string(count) +
                     ",) to match the inputs, got " + dtype_name(labels.dtype()) + " " +
                     shape_str(labels.shape()));
  const Tensor wide = labels.to(DType::i64);
  const std::int64_t* y = wide.data<std::int64_t>();
  // Without a class count, a label still needs that many logits: more than
  // 2^31 classes is no classifier, and the count (largest + 1) must not wrap.
  const std::int64_t bound = classes > 0 ? classes : kMaxClasses;
  for (std::int64_t i = 0; i < count; ++i)
    if (y[i] < 0 || y[i] >= bound)
      throw UsageError(path + ": label " + std::to_string(y[i]) + " at index " + std::to_string(i) +
                       " is out of range [0, " +
                       (classes > 0 ? std::to_string(classes) : std::string("2^31")) + ")");
  return wide;
}

}  // namespace

NpyDataset::NpyDataset(const std::string& inputs_path, const std::string& labels_path,
                       std::int64_t classes)
    : NpyDataset(load_inputs(inputs_path), labels_path, classes) {}

NpyDataset::NpyDataset(Tensor inputs, const std::string& labels_path, std::int64_t classes)
    : TensorDataset(inputs, load_labels(labels_path, inputs.size(0), classes), classes) {}

}  // namespace laplex::data
