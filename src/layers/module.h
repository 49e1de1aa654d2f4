#pragma once
// Module: a layer or a model, shaped like torch.nn.Module. A module owns its
// parameters and buffers as Tensor members and registers their addresses
// under a name, so named_parameters() can walk the tree and produce dotted
// names ("model.1.t") without the module keeping a second copy.
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/tensor.h"

namespace laplex {

class Module {
 public:
  Module() = default;
  virtual ~Module() = default;
  // Registered addresses point into this object: no copies or moves.
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  virtual Tensor forward(const Tensor& x) = 0;
  // The YAML `type:` this module is built from ("linear", "sequential", ...).
  virtual std::string type_name() const = 0;
  Tensor operator()(const Tensor& x) { return forward(x); }

  // Own parameters first, then children's, in registration order.
  std::vector<std::pair<std::string, Tensor>> named_parameters(const std::string& prefix = "") const;
  std::vector<Tensor> parameters() const;
  std::vector<std::pair<std::string, Tensor>> named_buffers(const std::string& prefix = "") const;
  const std::vector<std::pair<std::string, std::shared_ptr<Module>>>& children() const {
    return children_;
  }
  std::int64_t parameter_count() const;

  void train(bool training = true);
  void eval() { train(false); }
  bool is_training() const { return training_; }

  // Moves every parameter and buffer; do it before building an optimizer,
  // which holds the parameter tensors themselves.
  void to(Device device);
  Device device() const;

  // Parameters and buffers by dotted name.
  std::map<std::string, Tensor> state_dict(const std::string& prefix = "") const;
  // Copies values into the existing tensors. Missing or unexpected names and
  // shape mismatches are errors (UsageError: a checkpoint is user input).
  void load_state_dict(const std::map<std::string, Tensor>& state, const std::string& prefix = "");

 protected:
  // Called on every module of the tree after load_state_dict copied the
  // values in: for state a module also keeps on the host (e.g. a counter).
  virtual void on_state_loaded() {}

  // `tensor` becomes a leaf that requires grad.
  void register_parameter(const std::string& name, Tensor* tensor);
  void register_buffer(const std::string& name, Tensor* tensor);
  template <class M>
  std::shared_ptr<M> register_module(const std::string& name, std::shared_ptr<M> module) {
    children_.emplace_back(name, module);
    return module;
  }

 private:
  static void notify_state_loaded(Module& module);

  std::vector<std::pair<std::string, Tensor*>> parameters_;
  std::vector<std::pair<std::string, Tensor*>> buffers_;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
  bool training_ = true;
};

}  // namespace laplex
