#pragma once
// What a Loader reads from: a fixed number of examples, each a float32 array
// of one shape, optionally with an int64 class label.
//
//   class Dataset
//     std::int64_t size() const                     number of examples
//     Shape example_shape() const                   of one input, e.g. (C, H, W)
//     bool has_labels() const
//     std::int64_t classes() const                  0 when unknown or unlabelled
//     void read(index, epoch, float* out, std::int64_t* label) const
//     std::int64_t example_numel() const            numel(example_shape())
//     bool examples_vary_by_epoch() const           new examples each epoch (random crops)
//
// read() is const and must be safe to call from several threads at once, and
// its result must be a pure function of (index, epoch) and whatever the
// dataset was built from (files, a seed). Random augmentation and random
// crops draw from counters derived from those, never from shared generator
// state, so a run interrupted and resumed at any batch reads bit-identical
// examples, whichever thread reads them and in whatever order.
#include <cstdint>

#include "core/shape.h"

namespace laplex::data {

// Labels are class indices below this (a classifier of more classes would
// not fit a linear layer's 2^31 outputs), so label + 1 never overflows.
inline constexpr std::int64_t kMaxClasses = std::int64_t{1} << 31;

class Dataset {
 public:
  virtual ~Dataset() = default;

  virtual std::int64_t size() const = 0;
  virtual Shape example_shape() const = 0;
  virtual bool has_labels() const = 0;
  virtual std::int64_t classes() const { return 0; }
  // Writes example_numel() floats to out and, when has_labels() and label is
  // not null, the label to *label. index is in [0, size()).
  virtual void read(std::int64_t index, std::int64_t epoch, float* out,
                    std::int64_t* label) const = 0;

  std::int64_t example_numel() const { return numel(example_shape()); }
  // True when epoch e's examples are new data, not the same ones again
  // (random crops, not noise or augmentation of fixed images): then a
  // caller that needs more examples than size() may read later epochs.
  virtual bool examples_vary_by_epoch() const { return false; }
};

}  // namespace laplex::data
