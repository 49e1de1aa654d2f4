#pragma once
// Uniform dequantisation of 8-bit data for density models: example values
// p in 0..255 (as the pixel datasets give them) become x = (p + u) / 256 with
// u ~ U[0, 1) per value, so a continuous density on [0, 1]^n bounds the
// discrete likelihood of the 8-bit image (laplex-math.md section 4, bits per
// dimension). The noise is Philox keyed by (seed, epoch) and counted by
// (index, position), so it is fresh every epoch, identical on resume and on
// any thread; `fixed` keys it by the seed alone (a test split scored the same
// way at every evaluation).
//
//   UniformDequantizedDataset(std::shared_ptr<const Dataset> base, seed, fixed)
#include <memory>

#include "data/dataset.h"

namespace laplex::data {

class UniformDequantizedDataset : public Dataset {
 public:
  UniformDequantizedDataset(std::shared_ptr<const Dataset> base, std::uint64_t seed, bool fixed);
  std::int64_t size() const override { return base_->size(); }
  Shape example_shape() const override { return base_->example_shape(); }
  bool has_labels() const override { return base_->has_labels(); }
  std::int64_t classes() const override { return base_->classes(); }
  // The noise is new each epoch, the images under it only if the base's are.
  bool examples_vary_by_epoch() const override { return base_->examples_vary_by_epoch(); }
  void read(std::int64_t index, std::int64_t epoch, float* out, std::int64_t* label) const override;

 private:
  std::shared_ptr<const Dataset> base_;
  std::uint64_t seed_;
  bool fixed_;
};

}  // namespace laplex::data
