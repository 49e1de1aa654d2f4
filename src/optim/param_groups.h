#pragma once
// Splits named parameters into groups by name patterns, so that e.g. LAPLEX
// anchors get their own learning rate: the first rule whose pattern matches
// a parameter's dotted name takes it; the rest form the default group.
// Patterns are shell globs ("*.t", "model.0.*").
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "optim/optimizer.h"

namespace laplex::optim {

struct GroupRule {
  std::string name;
  std::vector<std::string> patterns;
  std::optional<double> lr;            // default: the optimizer's lr
  std::optional<double> weight_decay;  // default: the optimizer's weight decay
  bool float64_master = false;         // ParamGroup::float64_master
};

std::vector<ParamGroup> make_param_groups(
    const std::vector<std::pair<std::string, Tensor>>& named_params,
    const std::vector<GroupRule>& rules, double lr, double weight_decay);

}  // namespace laplex::optim
