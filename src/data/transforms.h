#pragma once
// Per-example augmentation and normalisation, applied when an example is
// read. Each transform rewrites one example in place and keeps its shape;
// the random ones draw from a Philox block that TransformedDataset derives
// from (seed, epoch, index, position in the list), so augmentation is as
// deterministic and thread-safe as the dataset under it.
//
//   class Transform { virtual void apply(float* x, const Shape& shape,
//                                        const philox::Block& random) const = 0; }
//   Normalize(mean, std)           per channel (dim 0): (x - mean[c]) / std[c];
//                                  one value applies to all channels
//   RandomCrop(padding)            pad H and W with `padding` zeros on each side,
//                                  cut an H x W window back out at a random offset
//   RandomHorizontalFlip(p = 0.5)  mirror W with probability p
//   TransformedDataset(base, transforms, seed)
//
// Images are (C, H, W); a (H, W) example is one channel. Order matters as in
// torchvision: crop and flip the raw image, then normalise (padding is then
// (0 - mean) / std, like padding before ToTensor + Normalize).
#include <memory>
#include <vector>

#include "core/philox.h"
#include "data/dataset.h"

namespace laplex::data {

class Transform {
 public:
  virtual ~Transform() = default;
  virtual void apply(float* x, const Shape& shape, const philox::Block& random) const = 0;
};

class Normalize : public Transform {
 public:
  Normalize(std::vector<float> mean, std::vector<float> std);
  void apply(float* x, const Shape& shape, const philox::Block& random) const override;

 private:
  std::vector<float> mean_, inverse_std_;
};

class RandomCrop : public Transform {
 public:
  explicit RandomCrop(std::int64_t padding);
  void apply(float* x, const Shape& shape, const philox::Block& random) const override;

 private:
  std::int64_t padding_;
};

class RandomHorizontalFlip : public Transform {
 public:
  explicit RandomHorizontalFlip(double probability = 0.5);
  void apply(float* x, const Shape& shape, const philox::Block& random) const override;

 private:
  double probability_;
};

class TransformedDataset : public Dataset {
 public:
  TransformedDataset(std::shared_ptr<const Dataset> base,
                     std::vector<std::shared_ptr<const Transform>> transforms, std::uint64_t seed);

  std::int64_t size() const override { return base_->size(); }
  Shape example_shape() const override { return base_->example_shape(); }
  bool has_labels() const override { return base_->has_labels(); }
  std::int64_t classes() const override { return base_->classes(); }
  void read(std::int64_t index, std::int64_t epoch, float* out, std::int64_t* label) const override;

 private:
  std::shared_ptr<const Dataset> base_;
  std::vector<std::shared_ptr<const Transform>> transforms_;
  std::uint64_t seed_;
};

}  // namespace laplex::data
