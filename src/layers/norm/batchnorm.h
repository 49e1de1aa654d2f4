#pragma once
// batchnorm: PyTorch's BatchNorm1d (dims: 1, input (B, C)) and BatchNorm2d
// (dims: 2, input (B, C, H, W)). Training normalises with the batch mean and
// biased variance and updates running_mean / running_var (unbiased) with
// `momentum`; evaluation normalises with the running statistics. weight
// (ones) and bias (zeros) when affine; the running statistics are buffers,
// so they are saved in checkpoints. On the CPU (float32/float64) it is one
// fused op (cpu/batchnorm_cpu.h); elsewhere it is composed of engine ops.
#include "layers/module.h"

namespace laplex {

struct BatchNormOptions {
  std::int64_t features = 1;
  int dims = 1;
  double eps = 1e-5, momentum = 0.1;
  bool affine = true;
};

class BatchNorm : public Module {
 public:
  explicit BatchNorm(const BatchNormOptions& options);
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "batchnorm"; }
  // A variance below 0 is no state training can reach: refuse it, as the
  // optimizer refuses negative second moments.
  void on_state_loaded() override;
  const BatchNormOptions& options() const { return options_; }

  Tensor weight, bias, running_mean, running_var;

 private:
  // running = (1 - momentum) running + momentum batch (variance unbiased by
  // count / (count - 1)); batch_mean and batch_var are (C).
  void update_running_stats(const Tensor& batch_mean, const Tensor& batch_var,
                            std::int64_t count);

  BatchNormOptions options_;
};

}  // namespace laplex
