#pragma once
// Seeded random tensors. A Generator is a (seed, offset) pair owned by its
// user (a layer's initialiser, a dropout layer, a data loader): each call
// uses counters offset .. offset + numel - 1 and advances the offset, so the
// state is two integers that checkpoints save and restore exactly, and the
// same seed gives the same numbers on CPU and GPU.
#include <cstdint>

#include "core/tensor.h"

namespace laplex {

class Generator {
 public:
  explicit Generator(std::uint64_t seed = 0, std::uint64_t offset = 0)
      : seed_(seed), offset_(offset) {}
  std::uint64_t seed() const { return seed_; }
  std::uint64_t offset() const { return offset_; }
  void set_offset(std::uint64_t offset) { offset_ = offset; }
  // Reserves `count` counters and returns the first.
  std::uint64_t take(std::uint64_t count) {
    const std::uint64_t first = offset_;
    offset_ += count;
    return first;
  }

 private:
  std::uint64_t seed_;
  std::uint64_t offset_;
};

// A seed for stream `stream` of `seed` (splitmix64 of both), so the layers
// of a model each draw from their own stream and adding a layer does not
// shift the initial values of the others.
std::uint64_t derive_seed(std::uint64_t seed, std::uint64_t stream);

// In place, without autograd: uniform in [low, high), or normal(mean, std).
Tensor& uniform_(Tensor& t, Generator& generator, double low = 0.0, double high = 1.0);
Tensor& normal_(Tensor& t, Generator& generator, double mean = 0.0, double std = 1.0);
Tensor rand(const Shape& shape, Generator& generator, DType dtype = DType::f32,
            Device device = Device::cpu());
Tensor randn(const Shape& shape, Generator& generator, DType dtype = DType::f32,
             Device device = Device::cpu());

struct RandomFill {
  bool normal;
  double a, b;  // low/high or mean/std
  std::uint64_t seed, first_counter;
};

namespace cpu {
void random_fill(const Tensor& t, const RandomFill& fill);
}
namespace cuda {
void random_fill(const Tensor& t, const RandomFill& fill);
}

}  // namespace laplex
