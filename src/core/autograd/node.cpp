#include "core/autograd/node.h"

#include "core/autograd/grad_mode.h"
#include "core/ops/elementwise.h"

namespace laplex::autograd {

std::vector<Tensor> AccumulateGrad::apply(const std::vector<Tensor>& grad_outputs) {
  auto leaf = leaf_.lock();
  if (!leaf || !grad_outputs[0].defined()) return {};
  const Tensor& g = grad_outputs[0];
  if (g.shape() != leaf->shape)
    throw Error("backward: gradient of shape " + shape_str(g.shape()) + " for a leaf of shape " +
                shape_str(leaf->shape));
  if (g.device() != leaf->device)
    throw Error("backward: gradient on " + g.device().str() + " for a leaf on " +
                leaf->device.str());
  if (!leaf->grad) {
    // Own the buffer: the incoming gradient may alias another tensor.
    leaf->grad = g.to(leaf->dtype).contiguous().clone().impl_ptr();
  } else {
    Tensor acc(leaf->grad);
    acc.copy_(add(acc, g));
  }
  return {};
}

Edge gradient_edge(const Tensor& t) {
  TensorImpl& impl = t.impl();
  if (impl.grad_fn) return {impl.grad_fn, impl.output_nr};
  if (!impl.requires_grad) return {nullptr, 0};
  auto acc = impl.grad_accumulator.lock();
  if (!acc) {
    acc = std::make_shared<AccumulateGrad>(t.impl_ptr());
    impl.grad_accumulator = acc;
  }
  return {acc, 0};
}

bool any_requires_grad(const std::vector<Tensor>& inputs) {
  if (!grad_enabled()) return false;
  for (const Tensor& t : inputs)
    if (t.defined() && t.requires_grad()) return true;
  return false;
}

void record(const std::vector<Tensor>& outputs, const std::vector<Tensor>& inputs,
            std::shared_ptr<Node> node) {
  if (!any_requires_grad(inputs)) return;
  node->next_edges.clear();
  for (const Tensor& t : inputs) node->next_edges.push_back(t.defined() ? gradient_edge(t) : Edge{});
  node->num_outputs = static_cast<int>(outputs.size());
  for (std::size_t k = 0; k < outputs.size(); ++k) {
    if (!outputs[k].defined()) continue;
    TensorImpl& impl = outputs[k].impl();
    impl.grad_fn = node;
    impl.output_nr = static_cast<int>(k);
    impl.requires_grad = true;
  }
}

void record(const Tensor& output, const std::vector<Tensor>& inputs, std::string name,
            FunctionNode::Backward backward) {
  if (!any_requires_grad(inputs)) return;
  record(std::vector<Tensor>{output}, inputs,
         std::make_shared<FunctionNode>(std::move(name), std::move(backward)));
}

}  // namespace laplex::autograd
