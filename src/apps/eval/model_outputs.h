#pragma once
// laplex-eval --inputs X.npy --outputs Y.npy: the model of a checkpoint run
// on any array, in batches, without its data set.
// - classification (and any other module): X float32 (N, ...) with the
//   model's input shape after the batch dimension; Y float32, the model's
//   outputs (N, ...).
// - covariance: X (N, n) or (N, C, H, W) values (float32 or float64), Y
//   float64 (N): each row's negative log-density in nats of the values as
//   given (the continuous density; no dequantisation).
// A wrong dtype, shape or file is a UsageError naming the file; Y is written
// whole or not at all.
#include <cstdint>
#include <string>

#include "layers/module.h"

namespace laplex::eval {

// Returns the number of rows written.
std::int64_t write_model_outputs(Module& model, const std::string& task,
                                 const std::string& inputs_path, const std::string& outputs_path,
                                 std::int64_t batch_size, Device device);

}  // namespace laplex::eval
