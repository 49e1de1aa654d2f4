#pragma once
// batchnorm: PyTorch's BatchNorm1d (dims: 1, input (B, C)) and BatchNorm2d
// (dims: 2, input (B, C, H, W)). Training normalises with the batch mean and
// biased variance and updates running_mean / running_var (unbiased) with
// `momentum`; evaluation normalises with the running statistics. weight
// (ones) and bias (zeros) when affine; the running statistics are buffers,
// so they are saved in checkpoints.
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

  Tensor weight, bias, running_mean, running_var;

 private:
  BatchNormOptions options_;
};

}  // namespace laplex
