#include "optim/optimizer.h"

#include <algorithm>
#include <cmath>

#include "core/autograd/grad_mode.h"
#include "core/finite_check.h"
#include "core/ops/elementwise.h"
#include "core/ops/reduce.h"

namespace laplex::optim {

Optimizer::Optimizer(std::vector<ParamGroup> groups) : groups_(std::move(groups)) {
  std::size_t count = 0;
  for (const auto& g : groups_) {
    if (g.lr < 0) throw UsageError("optimizer: group '" + g.name + "' has a negative lr");
    if (g.weight_decay < 0)
      throw UsageError("optimizer: group '" + g.name + "' has a negative weight_decay");
    for (const Tensor& p : g.params)
      if (!p.is_contiguous()) throw Error("optimizer: parameters must be contiguous");
    count += g.params.size();
  }
  slots_.resize(count);
  steps_.assign(count, 0);
  masters_.resize(count);
}

bool Optimizer::uses_master(const ParamGroup& group, const Tensor& param) {
  return group.float64_master && param.dtype() == DType::f32;
}

void Optimizer::step() {
  std::size_t index = 0;
  for (const auto& group : groups_) {
    for (const Tensor& p : group.params) {
      const Tensor grad = p.grad();
      if (grad.defined()) {
        ++steps_[index];
        const double lr = group.lr * lr_factor_;
        if (uses_master(group, p)) {
          NoGradGuard no_grad;
          // The update (and the slots it makes) runs in float64 on the
          // master; the parameter gets the master rounded to float32.
          Tensor& master = masters_[index];
          if (!master.defined()) master = p.detach().to(DType::f64).contiguous();
          update(index, master, grad.to(DType::f64).contiguous(), group, lr);
          Tensor(p).copy_(master.to(DType::f32));
        } else {
          update(index, p, grad.contiguous(), group, lr);
        }
      }
      ++index;
    }
  }
}

void Optimizer::zero_grad() {
  for (auto& g : groups_)
    for (Tensor& p : g.params) p.zero_grad();
}

Tensor& Optimizer::slot(std::size_t index, std::size_t slot) {
  auto& slots = slots_[index];
  if (slots.size() <= slot) slots.resize(slot_names().size());
  return slots[slot];
}

bool Optimizer::has_slot(std::size_t index, std::size_t slot) const {
  return slot < slots_[index].size() && slots_[index][slot].defined();
}

std::map<std::string, Tensor> Optimizer::state_dict() const {
  std::map<std::string, Tensor> out;
  const auto names = slot_names();
  for (std::size_t i = 0; i < slots_.size(); ++i) {
    const std::string prefix = "param." + std::to_string(i) + ".";
    out[prefix + "step"] = Tensor::from_vector<std::int64_t>({steps_[i]}, {1});
    for (std::size_t s = 0; s < slots_[i].size(); ++s)
      if (slots_[i][s].defined()) out[prefix + names[s]] = slots_[i][s];
    if (masters_[i].defined()) out[prefix + "master"] = masters_[i];
  }
  out["lr_factor"] = Tensor::from_vector<double>({lr_factor_}, {1});
  return out;
}

namespace {

// A saved step counter: one whole number in [0, 2^53) (item() reads the
// saved int64 as a double, exact up to 2^53).
std::int64_t saved_step(const Tensor& saved, const std::string& name) {
  const double value = saved.numel() == 1 ? saved.item() : -1.0;
  if (!(value >= 0 && value < 9007199254740992.0 && value == std::floor(value)))
    throw UsageError("optimizer state: '" + name + "' must hold one whole number >= 0");
  return static_cast<std::int64_t>(value);
}

// Whether the float64 `master` rounds to the float32 `param` everywhere.
bool rounds_to(const Tensor& master, const Tensor& param) {
  if (param.numel() == 0) return true;
  NoGradGuard no_grad;
  return max(abs(sub(master.to(DType::f32), param.detach()))).item() == 0.0;
}

}  // namespace

void Optimizer::load_state_dict(const std::map<std::string, Tensor>& state) {
  const auto names = slot_names();
  std::vector<Tensor> params;
  std::vector<bool> mastered;  // per parameter: updated through a master
  for (const auto& g : groups_)
    for (const Tensor& p : g.params) {
      params.push_back(p);
      mastered.push_back(uses_master(g, p));
    }
  for (std::size_t i = 0; i < slots_.size(); ++i) {
    // The slots live in the dtype the update runs in.
    const DType slot_dtype = mastered[i] ? DType::f64 : params[i].dtype();
    const std::string prefix = "param." + std::to_string(i) + ".";
    auto step = state.find(prefix + "step");
    if (step == state.end())
      throw UsageError("optimizer state: missing '" + prefix + "step' (was it saved for another model?)");
    steps_[i] = saved_step(step->second, prefix + "step");
    slots_[i].assign(names.size(), Tensor());
    for (std::size_t s = 0; s < names.size(); ++s) {
      auto it = state.find(prefix + names[s]);
      if (it == state.end()) continue;
      if (it->second.shape() != params[i].shape())
        throw UsageError("optimizer state: '" + prefix + names[s] + "' has shape " +
                         shape_str(it->second.shape()) + ", parameter has " +
                         shape_str(params[i].shape()));
      if (const std::int64_t at = first_non_finite(it->second); at >= 0)
        throw UsageError("optimizer state: '" + prefix + names[s] + "' holds a NaN or an infinity (element " +
                         std::to_string(at) + ")");
      if (slot_is_nonnegative(s))
        if (const std::int64_t at = first_negative(it->second); at >= 0)
          throw UsageError("optimizer state: '" + prefix + names[s] + "' holds a negative value (element " +
                           std::to_string(at) + "); second moments are >= 0");
      slots_[i][s] = it->second.to(slot_dtype).to(params[i].device()).clone();
    }
    masters_[i] = Tensor();
    if (auto it = state.find(prefix + "master"); it != state.end() && mastered[i]) {
      if (it->second.shape() != params[i].shape())
        throw UsageError("optimizer state: '" + prefix + "master' has shape " +
                         shape_str(it->second.shape()) + ", parameter has " +
                         shape_str(params[i].shape()));
      if (const std::int64_t at = first_non_finite(it->second); at >= 0)
        throw UsageError("optimizer state: '" + prefix + "master' holds a NaN or an infinity (element " +
                         std::to_string(at) + ")");
      const Tensor master = it->second.to(DType::f64).to(params[i].device()).clone();
      if (rounds_to(master, params[i])) masters_[i] = master;
    }
    // A parameter's slots are made together by its first update, so a state
    // holds all of them or none: with one missing the update would read an
    // undefined tensor (Adam without exp_avg_sq) or start the others afresh.
    const auto loaded = std::count_if(slots_[i].begin(), slots_[i].end(),
                                      [](const Tensor& t) { return t.defined(); });
    for (std::size_t s = 0; s < names.size() && loaded > 0; ++s)
      if (!slots_[i][s].defined())
        throw UsageError("optimizer state: missing '" + prefix + names[s] +
                         "' (the state holds the other slots of that parameter)");
  }
  if (auto it = state.find("lr_factor"); it != state.end()) {
    const double factor = it->second.numel() == 1 ? it->second.item() : -1.0;
    if (!(factor >= 0 && std::isfinite(factor)))
      throw UsageError("optimizer state: 'lr_factor' must hold one finite number >= 0");
    lr_factor_ = factor;
  }
}

}  // namespace laplex::optim
