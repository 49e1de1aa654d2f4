#include "core/autograd/engine.h"

#include <algorithm>
#include <unordered_map>

#include "core/autograd/grad_mode.h"
#include "core/autograd/node.h"
#include "core/ops/elementwise.h"

namespace laplex::autograd {

namespace {

// Sums a gradient into a slot, checking that the shapes agree.
void accumulate(Tensor& slot, const Tensor& grad, const Node& node) {
  if (!grad.defined()) return;
  if (!slot.defined()) {
    slot = grad;
    return;
  }
  if (slot.shape() != grad.shape())
    throw Error("backward: gradients of shapes " + shape_str(slot.shape()) + " and " +
                shape_str(grad.shape()) + " reach the same output of " + node.name());
  slot = add(slot, grad);
}

}  // namespace

void backward(const std::vector<Tensor>& roots, const std::vector<Tensor>& root_grads) {
  NoGradGuard no_grad;

  // The root edges, with their seeds.
  std::vector<std::pair<Edge, Tensor>> seeds;
  for (std::size_t r = 0; r < roots.size(); ++r) {
    const Tensor& root = roots[r];
    if (!root.requires_grad())
      throw Error("backward: the tensor does not require grad and has no grad_fn "
                  "(was it computed under NoGradGuard, or from a non-differentiable op?)");
    Tensor seed = r < root_grads.size() ? root_grads[r] : Tensor();
    if (!seed.defined()) {
      if (root.numel() != 1)
        throw Error("backward: a gradient is needed for a non-scalar output of shape " +
                    shape_str(root.shape()));
      seed = Tensor::ones(root.shape(), root.dtype(), root.device());
    } else {
      if (seed.shape() != root.shape())
        throw Error("backward: gradient of shape " + shape_str(seed.shape()) +
                    " for an output of shape " + shape_str(root.shape()));
      if (seed.device() != root.device())
        throw Error("backward: gradient on " + seed.device().str() + " for an output on " +
                    root.device().str());
    }
    seeds.emplace_back(gradient_edge(root), seed);
  }

  // Count, for every reachable node, how many edges lead into it, so a node
  // runs only after every gradient for it has arrived.
  std::unordered_map<Node*, int> dependencies;
  std::vector<Node*> stack;
  for (auto& [edge, seed] : seeds) {
    if (dependencies.emplace(edge.node.get(), 0).second) stack.push_back(edge.node.get());
  }
  while (!stack.empty()) {
    Node* node = stack.back();
    stack.pop_back();
    for (const Edge& e : node->next_edges) {
      if (!e.node) continue;
      auto [it, inserted] = dependencies.emplace(e.node.get(), 0);
      ++it->second;
      if (inserted) stack.push_back(e.node.get());
    }
  }

  std::unordered_map<Node*, std::vector<Tensor>> buffers;
  std::unordered_map<Node*, std::shared_ptr<Node>> keep_alive;
  std::vector<Node*> ready;
  for (auto& [edge, seed] : seeds) {
    auto& buffer = buffers[edge.node.get()];
    buffer.resize(edge.node->num_outputs);
    accumulate(buffer[edge.input_nr], seed, *edge.node);
    keep_alive[edge.node.get()] = edge.node;
  }
  for (auto& [edge, seed] : seeds)
    if (dependencies[edge.node.get()] == 0 &&
        std::find(ready.begin(), ready.end(), edge.node.get()) == ready.end())
      ready.push_back(edge.node.get());

  while (!ready.empty()) {
    Node* node = ready.back();
    ready.pop_back();
    std::vector<Tensor> grads = std::move(buffers[node]);
    buffers.erase(node);
    grads.resize(node->num_outputs);
    std::vector<Tensor> input_grads = node->apply(grads);
    if (!input_grads.empty() && input_grads.size() != node->next_edges.size())
      throw Error("backward: " + node->name() + " returned " + std::to_string(input_grads.size()) +
                  " gradients for " + std::to_string(node->next_edges.size()) + " inputs");
    for (std::size_t k = 0; k < node->next_edges.size(); ++k) {
      const Edge& e = node->next_edges[k];
      if (!e.node) continue;
      if (k < input_grads.size() && input_grads[k].defined()) {
        auto& buffer = buffers[e.node.get()];
        buffer.resize(e.node->num_outputs);
        accumulate(buffer[e.input_nr], input_grads[k], *e.node);
      }
      keep_alive[e.node.get()] = e.node;
      if (--dependencies[e.node.get()] == 0) ready.push_back(e.node.get());
    }
    keep_alive.erase(node);
  }
}

}  // namespace laplex::autograd
