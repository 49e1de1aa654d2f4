#pragma once
// Low-rank dense layer y = x V U^T + b with U (out, rank), V (in, rank): the
// W = U V^T surrogate the LAPLEX paper compares against at equal parameter
// count (YAML: {type: lowrank, in, out, rank, bias: true}). Parameters
// (in + out) * rank (+ out). Initialised so that W's entries have the
// variance of torch.nn.Linear's: U, V ~ N(0, 1/(3 in)^(1/2) / rank^(1/2))
// makes var(W_ij) = rank var(U) var(V) = 1/(3 in).
#include "layers/module.h"

namespace laplex {

class LowRank : public Module {
 public:
  LowRank(std::int64_t in, std::int64_t out, std::int64_t rank, bool bias, std::uint64_t seed);
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "lowrank"; }

  Tensor u;     // (out, rank)
  Tensor v;     // (in, rank)
  Tensor bias;  // (out) or undefined
};

}  // namespace laplex
