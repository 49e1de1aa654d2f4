#pragma once
// dropout: in training, each value is kept with probability 1 - p and
// scaled by 1 / (1 - p); the identity in evaluation. Masks come from the
// counter-based generator: draw k of a layer uses seed derive_seed(seed, k),
// so a run is reproducible from its seed on either device. The draw counter
// is not saved in checkpoints: a resumed run draws masks from 0 again.
#include "layers/module.h"

namespace laplex {

class Dropout : public Module {
 public:
  Dropout(double p, std::uint64_t seed);
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "dropout"; }

 private:
  double p_;
  std::uint64_t seed_;
  std::uint64_t draws_ = 0;
};

}  // namespace laplex
