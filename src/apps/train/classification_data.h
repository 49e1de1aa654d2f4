#pragma once
// The in-memory splits a classification run trains and evaluates on:
// inputs (N, ...) float32 and labels (N,) int64 on the host. The batch order
// of an epoch is data::epoch_order (data/sampler.h).
#include <cstdint>
#include <vector>

#include "apps/train/train_config.h"
#include "core/tensor.h"

namespace laplex::train {

struct Split {
  Tensor inputs;  // (N, ...) float32, CPU
  Tensor labels;  // (N,) int64, CPU
  std::int64_t size() const { return inputs.size(0); }
};

struct ClassificationData {
  Split train, test;
  std::int64_t classes = 0;
};

// Which splits to read. laplex-eval scores the test split alone, so with
// test_only the MNIST-format and npy training files need not be there (the
// training split comes back empty); image folders and generated data are
// read whole (an image folder's labels are its class folders in both
// splits).
enum class SplitsToRead { train_and_test, test_only };

// Loads (or generates) the splits the config names; UsageError for missing
// or malformed data files, splits of different example shapes, or an empty
// test split.
ClassificationData load_classification_data(const DataConfig& config, std::uint64_t seed,
                                            SplitsToRead splits = SplitsToRead::train_and_test);

// A gaussian-mixture problem: `classes` centres in R^features, points around
// them. Deterministic in `seed`; used by tests and the quick-start config.
ClassificationData make_synthetic(std::int64_t train, std::int64_t test, std::int64_t features,
                                  std::int64_t classes, std::uint64_t seed);

// Per-channel (x - mean) / std of (N, C, ...) inputs, in place (nothing
// when the config has no mean).
void normalize_inputs(Tensor& inputs, const DataConfig& config);

// Copies the rows `indices[begin, end)` of a split into a batch on `device`.
std::pair<Tensor, Tensor> gather_batch(const Split& split, const std::vector<std::int64_t>& indices,
                                       std::int64_t begin, std::int64_t end, Device device);

}  // namespace laplex::train
