#include "layers/module.h"

#include <set>

namespace laplex {

namespace {
std::string join(const std::string& prefix, const std::string& name) {
  return prefix.empty() ? name : prefix + "." + name;
}
}  // namespace

void Module::register_parameter(const std::string& name, Tensor* tensor) {
  tensor->set_requires_grad(true);
  parameters_.emplace_back(name, tensor);
}

void Module::register_buffer(const std::string& name, Tensor* tensor) {
  buffers_.emplace_back(name, tensor);
}

std::vector<std::pair<std::string, Tensor>> Module::named_parameters(
    const std::string& prefix) const {
  std::vector<std::pair<std::string, Tensor>> out;
  for (const auto& [name, t] : parameters_)
    if (t->defined()) out.emplace_back(join(prefix, name), *t);
  for (const auto& [name, child] : children_)
    for (auto& entry : child->named_parameters(join(prefix, name))) out.push_back(entry);
  return out;
}

std::vector<Tensor> Module::parameters() const {
  std::vector<Tensor> out;
  for (auto& [name, t] : named_parameters()) out.push_back(t);
  return out;
}

std::vector<std::pair<std::string, Tensor>> Module::named_buffers(const std::string& prefix) const {
  std::vector<std::pair<std::string, Tensor>> out;
  for (const auto& [name, t] : buffers_)
    if (t->defined()) out.emplace_back(join(prefix, name), *t);
  for (const auto& [name, child] : children_)
    for (auto& entry : child->named_buffers(join(prefix, name))) out.push_back(entry);
  return out;
}

std::int64_t Module::parameter_count() const {
  std::int64_t count = 0;
  for (const auto& [name, t] : named_parameters()) count += t.numel();
  return count;
}

void Module::train(bool training) {
  training_ = training;
  for (auto& [name, child] : children_) child->train(training);
}

void Module::to(Device device) {
  for (auto& [name, t] : parameters_) {
    if (!t->defined() || t->device() == device) continue;
    *t = t->detach().to(device);
    t->set_requires_grad(true);
  }
  for (auto& [name, t] : buffers_)
    if (t->defined()) *t = t->to(device);
  for (auto& [name, child] : children_) child->to(device);
}

Device Module::device() const {
  for (const auto& [name, t] : parameters_)
    if (t->defined()) return t->device();
  for (const auto& [name, child] : children_)
    if (!child->named_parameters().empty()) return child->device();
  return Device::cpu();
}

std::map<std::string, Tensor> Module::state_dict(const std::string& prefix) const {
  std::map<std::string, Tensor> out;
  for (auto& [name, t] : named_parameters(prefix)) out[name] = t.detach();
  for (auto& [name, t] : named_buffers(prefix)) out[name] = t;
  return out;
}

void Module::load_state_dict(const std::map<std::string, Tensor>& state, const std::string& prefix) {
  auto mine = named_parameters(prefix);
  const auto buffers = named_buffers(prefix);
  mine.insert(mine.end(), buffers.begin(), buffers.end());
  std::set<std::string> expected;
  for (auto& [name, t] : mine) {
    expected.insert(name);
    auto it = state.find(name);
    if (it == state.end()) throw UsageError("state dict: missing tensor '" + name + "'");
    if (it->second.shape() != t.shape())
      throw UsageError("state dict: tensor '" + name + "' has shape " +
                       shape_str(it->second.shape()) + ", the model expects " +
                       shape_str(t.shape()));
    // float64 into float32 (or back) converts, as PyTorch's load does; an
    // integer tensor for a float parameter (or the reverse) is no
    // conversion a writer meant: the bytes would be read as garbage.
    if (is_floating(it->second.dtype()) != is_floating(t.dtype()))
      throw UsageError("state dict: tensor '" + name + "' is stored as " +
                       dtype_name(it->second.dtype()) + ", the model expects " +
                       dtype_name(t.dtype()));
  }
  for (auto& [name, t] : state)
    if (!expected.count(name)) throw UsageError("state dict: unexpected tensor '" + name + "'");
  for (auto& [name, t] : mine) {
    Tensor target = t.detach();
    target.copy_(state.at(name));
  }
  notify_state_loaded(*this);
}

void Module::notify_state_loaded(Module& module) {
  module.on_state_loaded();
  for (auto& [name, child] : module.children_) notify_state_loaded(*child);
}

}  // namespace laplex
