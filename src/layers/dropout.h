#pragma once
// dropout: in training, each value is kept with probability 1 - p and
// scaled by 1 / (1 - p); the identity in evaluation. Masks come from the
// counter-based generator: draw k of a layer uses seed derive_seed(seed, k),
// so a run is reproducible from its seed on either device. The draw counter
// is the buffer `draws` (int64, (1)), so checkpoints carry it and a resumed
// run draws the masks an uninterrupted one would.
#include "layers/module.h"

namespace laplex {

class Dropout : public Module {
 public:
  Dropout(double p, std::uint64_t seed);
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "dropout"; }

  Tensor draws;  // (1) int64: masks drawn so far

 protected:
  void on_state_loaded() override;

 private:
  double p_;
  std::uint64_t seed_;
  std::uint64_t draws_ = 0;  // the host copy of `draws`, read without a device sync
};

}  // namespace laplex
