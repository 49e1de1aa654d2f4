#include "helpers/device_twin.h"

#include "core/ops/elementwise.h"
#include "core/ops/reduce.h"
#include "helpers/gradcheck.h"

namespace laplex::testing {

namespace {

struct Run {
  Tensor output;
  std::vector<Tensor> grads;
};

Run run_on(Device device, const DeviceFunction& f, const std::vector<Tensor>& inputs,
           const std::vector<int>& differentiable) {
  std::vector<Tensor> moved;
  for (const Tensor& t : inputs) moved.push_back(t.to(device).clone());
  for (int i : differentiable) moved[i].set_requires_grad(true);
  Run run;
  run.output = f(moved);
  if (!differentiable.empty()) {
    const Tensor w = random_tensor(run.output.shape(), 99).to(run.output.dtype()).to(device);
    sum(mul(run.output, w)).backward();
    for (int i : differentiable)
      run.grads.push_back(moved[i].grad().defined() ? moved[i].grad().to(Device::cpu())
                                                    : Tensor::zeros_like(inputs[i]));
  }
  run.output = run.output.to(Device::cpu());
  return run;
}

}  // namespace

::testing::AssertionResult check_device_twin(const DeviceFunction& f,
                                             const std::vector<Tensor>& inputs,
                                             const std::vector<int>& differentiable, double atol,
                                             double rtol) {
  const Run cpu = run_on(Device::cpu(), f, inputs, differentiable);
  const Run gpu = run_on(Device::cuda(0), f, inputs, differentiable);
  auto out = all_close(gpu.output, cpu.output, atol, rtol);
  if (!out) return ::testing::AssertionFailure() << "output: " << out.message();
  for (std::size_t k = 0; k < cpu.grads.size(); ++k) {
    auto g = all_close(gpu.grads[k], cpu.grads[k], atol, rtol);
    if (!g)
      return ::testing::AssertionFailure() << "gradient of input " << differentiable[k] << ": "
                                           << g.message();
  }
  return ::testing::AssertionSuccess();
}

}  // namespace laplex::testing
