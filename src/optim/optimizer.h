#pragma once
// The optimizer interface. Parameters come in groups, each with its own
// learning rate and weight decay (LAPLEX anchors usually want their own);
// a schedule scales every group's base learning rate by one factor.
#include <map>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace laplex::optim {

struct ParamGroup {
  std::vector<Tensor> params;
  double lr = 0.01;            // base learning rate
  double weight_decay = 0.0;
  std::string name = "default";
  // Float32 parameters of the group are updated through a float64 master
  // copy kept by the optimizer, then rounded back: an update smaller than
  // half the float32 spacing of a parameter (0.01 steps on an anchor near
  // 10^6, where float32 steps by 0.06) would otherwise be lost every time.
  bool float64_master = false;
  // The parameters' dotted names, parallel to params (empty when the
  // caller has none): checkpoints record the optimizer's order by them.
  std::vector<std::string> param_names;
};

class Optimizer {
 public:
  explicit Optimizer(std::vector<ParamGroup> groups);
  virtual ~Optimizer() = default;

  // One update from the parameters' current .grad() (parameters without a
  // gradient are left alone).
  void step();
  void zero_grad();

  std::vector<ParamGroup>& groups() { return groups_; }
  const std::vector<ParamGroup>& groups() const { return groups_; }
  // Effective lr of group g = groups()[g].lr * lr_factor().
  void set_lr_factor(double factor) { lr_factor_ = factor; }
  double lr_factor() const { return lr_factor_; }

  // The optimizer's own state (moments, buffers, step counts, float64
  // masters) by name, for checkpoints; load_state_dict restores it exactly.
  // A saved master that does not round to its parameter (the parameter was
  // written by other means since) is dropped: the parameter is the truth.
  std::map<std::string, Tensor> state_dict() const;
  void load_state_dict(const std::map<std::string, Tensor>& state);

 protected:
  // Updates parameter `index` (counted over all groups) of group `group`.
  virtual void update(std::size_t index, const Tensor& param, const Tensor& grad,
                      const ParamGroup& group, double lr) = 0;
  // Per-parameter state slots ("momentum_buffer", "exp_avg", ...): tensors
  // shaped like the parameter, created on first use.
  virtual std::vector<std::string> slot_names() const = 0;
  // Slots that hold no value below zero (Adam's second moments): a loaded
  // state with one would take the square root of a negative number.
  virtual bool slot_is_nonnegative(std::size_t /*slot*/) const { return false; }
  Tensor& slot(std::size_t index, std::size_t slot);
  bool has_slot(std::size_t index, std::size_t slot) const;
  std::int64_t& step_count(std::size_t index) { return steps_[index]; }

 private:
  std::vector<ParamGroup> groups_;
  double lr_factor_ = 1.0;
  std::vector<std::vector<Tensor>> slots_;  // [param][slot]
  std::vector<std::int64_t> steps_;         // per parameter, like torch's state['step']
  std::vector<Tensor> masters_;             // per parameter: its float64 master, or undefined

  // Whether parameter `param` of `group` is updated through a master.
  static bool uses_master(const ParamGroup& group, const Tensor& param);
};

}  // namespace laplex::optim
