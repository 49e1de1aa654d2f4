#include "apps/eval/model_outputs.h"

#include "core/autograd/grad_mode.h"
#include "core/ops/join.h"
#include "core/ops/view.h"
#include "data/npy.h"

namespace laplex::eval {

std::int64_t write_model_outputs(Module& model, const std::string& task,
                                 const std::string& inputs_path, const std::string& outputs_path,
                                 std::int64_t batch_size, Device device) {
  const bool density = task == "covariance";
  Tensor x = data::read_npy(inputs_path);
  // A 1-D array would be N scalar rows: layers that take one vector as a
  // batch of one read it as a single example, and N rows came out as one.
  if (x.dim() < 2 || x.size(0) < 1)
    throw UsageError(inputs_path + ": expected an array of at least one row (N, features...), " +
                     "got shape " + shape_str(x.shape()) +
                     (x.dim() == 1 ? " (one example is shape (1, " + std::to_string(x.size(0)) + "))"
                                   : std::string()));
  if (x.dtype() != DType::f32 && !(density && x.dtype() == DType::f64))
    throw UsageError(inputs_path + ": expected float32 values" +
                     std::string(density ? " (or float64)" : "") + ", got " +
                     // 8-bit arrays are widened when read: name the kind, not int32.
                     (is_floating(x.dtype()) ? dtype_name(x.dtype()) : std::string("integers")));
  x = x.to(DType::f32);
  if (density) x = reshape(x, {x.size(0), x.numel() / x.size(0)});

  NoGradGuard no_grad;
  model.eval();
  std::vector<Tensor> outputs;
  for (std::int64_t begin = 0; begin < x.size(0); begin += batch_size) {
    const std::int64_t end = std::min(x.size(0), begin + batch_size);
    const Tensor batch = slice(x, 0, begin, end).contiguous().to(device);
    Tensor y;
    try {
      y = model.forward(batch);
    } catch (const UsageError&) {
      throw;
    } catch (const Error& e) {
      // Shape mismatches surface inside the first layer that sees them.
      throw UsageError(inputs_path + ": rows of shape " +
                       shape_str(Shape(x.shape().begin() + 1, x.shape().end())) +
                       " do not fit the model (" + e.what() + ")");
    }
    if (density && (y.dim() != 1 || y.size(0) != end - begin))
      throw UsageError("checkpoint: the model is not a density model (output " +
                       shape_str(y.shape()) + ")");
    outputs.push_back(y.to(Device::cpu()).to(density ? DType::f64 : DType::f32));
  }
  data::write_npy(outputs_path, concat(outputs, 0).contiguous());
  return x.size(0);
}

}  // namespace laplex::eval
