#pragma once
// The LAPLEX layer: a dense in -> out map that is never stored (laplex-math.md
// section 1), y = W x + b with W[i,j] = sum_h u[h,i] kappa_h(t[h,i] - s[h,j]) v[h,j].
//
// YAML: {type: laplex, in, out, heads: 1, phased: false, gains: true,
//        bias: true, learn_decay: true, neighbourhood: 8, anchors: grid,
//        input_gain_std: 1}
// Parameters (laplex-math.md names): t (H, out), s (H, in), u (H, out) and
// v (H, in) with gains, rho (H) (a buffer when learn_decay is false), omega
// and phi (H) when phased, bias (out).
//
// Initialisation:
// - anchors: `grid` puts s_j = (j + 1/2)/in and t_i = (i + 1/2)/out on [0, 1],
//   interleaved so each head starts near full rank; `shuffled` keeps those
//   positions but gives each head its own random order of the inputs, so
//   with local heads output i sees a different subset of inputs in every
//   head (for inputs with no meaningful order, such as flattened CNN
//   features); `random` draws both uniformly on [0, 1] (to compare learned
//   structure with a random start).
// - decay: head h interacts with about neighbourhood * 2^h inputs on each
//   side, alpha_h = in / (neighbourhood 2^h): heads cover scales from local
//   to wide.
// - phased heads: omega_h uniform in (-alpha_h, alpha_h), phi_h = 0.
// - gains: v[h,j] ~ N(0, g^2) (g = input_gain_std) and
//   u[h,i] = +-1 / (g sqrt(H E[h,i])) with
//   E[h,i] = sum_j kappa_h(t_i - s_j)^2 computed exactly with the fast
//   operator itself (exp(-2 alpha |d|) cos^2 = half an unphased apply at
//   2 alpha plus half a phased one at (2 alpha, 2 omega, 2 phi)), so every
//   output has the input's variance at init for i.i.d. zero-mean inputs.
//   Without gains there is nothing to scale and the output variance is
//   sum_h E[h,i] times the input's.
//   g only splits W's scale between u and v, yet it sets how fast training
//   moves W: Adam steps each parameter by about the learning rate whatever
//   its size, so v ~ N(0, 1) changes by 0.2% a step at lr 0.002 while a dense
//   layer's entries (about 1/sqrt(in)) change by 10%. A small g gives the
//   head a dense layer's pace: configs/fashion_mnist_cnn_laplex_head.yaml
//   uses 0.005 for its 3136-input head, which underfits with g = 1.
// - bias 0.
#include <cstdint>
#include <memory>
#include <string>

#include "layers/laplex/laplex_op.h"
#include "layers/laplex/laplex_plan.h"
#include "layers/module.h"

namespace laplex {

struct LaplexLayerOptions {
  std::int64_t in = 0, out = 0, heads = 1;
  bool phased = false, gains = true, bias = true, learn_decay = true;
  double neighbourhood = 8.0;
  double input_gain_std = 1.0;
  std::string anchors = "grid";  // grid | shuffled | random
};

class LaplexLayer : public Module {
 public:
  LaplexLayer(const LaplexLayerOptions& options, std::uint64_t seed);
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "laplex"; }
  const LaplexLayerOptions& options() const { return options_; }
  // The parameters as the op takes them, and W (out, in) materialised.
  LaplexParams params() const;
  Tensor to_dense() const;

  Tensor t, s, u, v, rho, omega, phi, bias;

 private:
  LaplexLayerOptions options_;
  // The CPU kernels' scratch, kept from step to step (see LaplexOptions).
  std::shared_ptr<LaplexScratchPool> scratch_ = std::make_shared<LaplexScratchPool>();
  LaplexOptions op_options() const { return {.phased = options_.phased, .cpu_scratch = scratch_}; }
};

}  // namespace laplex
