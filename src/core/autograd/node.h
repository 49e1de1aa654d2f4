#pragma once
// A node of the backward graph: what one op needs to turn the gradients of
// its outputs into gradients of its inputs. Ops create nodes as they run
// (define-by-run); the engine (engine.h) calls them in reverse order.
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace laplex::autograd {

class Node;

// Where the gradient of one op input goes: input number `input_nr` of `node`
// (nullptr when that input needs no gradient).
struct Edge {
  std::shared_ptr<Node> node;
  int input_nr = 0;
};

class Node {
 public:
  virtual ~Node() = default;
  virtual std::string name() const = 0;
  // grad_outputs[k] is the gradient of output k (undefined when no gradient
  // reached it). Returns one gradient per entry of next_edges, in order;
  // an undefined tensor means zero.
  virtual std::vector<Tensor> apply(const std::vector<Tensor>& grad_outputs) = 0;

  std::vector<Edge> next_edges;
  int num_outputs = 1;
};

// Accumulates incoming gradients into a leaf tensor's .grad.
class AccumulateGrad : public Node {
 public:
  explicit AccumulateGrad(std::weak_ptr<TensorImpl> leaf) : leaf_(std::move(leaf)) {}
  std::string name() const override { return "AccumulateGrad"; }
  std::vector<Tensor> apply(const std::vector<Tensor>& grad_outputs) override;

 private:
  std::weak_ptr<TensorImpl> leaf_;
};

// A node whose backward is a function: what most ops use.
class FunctionNode : public Node {
 public:
  using Backward = std::function<std::vector<Tensor>(const std::vector<Tensor>&)>;
  FunctionNode(std::string name, Backward backward)
      : name_(std::move(name)), backward_(std::move(backward)) {}
  std::string name() const override { return name_; }
  std::vector<Tensor> apply(const std::vector<Tensor>& grad_outputs) override {
    return backward_(grad_outputs);
  }

 private:
  std::string name_;
  Backward backward_;
};

// The edge through which a gradient for `t` flows (creating the leaf's
// accumulator on first use).
Edge gradient_edge(const Tensor& t);

// True when gradients are being recorded and any input requires them.
bool any_requires_grad(const std::vector<Tensor>& inputs);

// Makes `outputs` the results of `node` with `inputs` as its differentiable
// inputs, when any_requires_grad(inputs); otherwise does nothing. The node's
// backward must return one gradient per input. Saved tensors that the
// backward captures should be detach()ed to avoid reference cycles.
void record(const std::vector<Tensor>& outputs, const std::vector<Tensor>& inputs,
            std::shared_ptr<Node> node);
// Shorthand for a single-output op with a FunctionNode.
void record(const Tensor& output, const std::vector<Tensor>& inputs, std::string name,
            FunctionNode::Backward backward);

}  // namespace laplex::autograd
