#include "optim/param_groups.h"

#include <fnmatch.h>

namespace laplex::optim {

std::vector<ParamGroup> make_param_groups(
    const std::vector<std::pair<std::string, Tensor>>& named_params,
    const std::vector<GroupRule>& rules, double lr, double weight_decay) {
  std::vector<ParamGroup> groups(rules.size() + 1);
  for (std::size_t r = 0; r < rules.size(); ++r) {
    groups[r].name = rules[r].name;
    groups[r].lr = rules[r].lr.value_or(lr);
    groups[r].weight_decay = rules[r].weight_decay.value_or(weight_decay);
    groups[r].float64_master = rules[r].float64_master;
  }
  ParamGroup& rest = groups.back();
  rest.lr = lr;
  rest.weight_decay = weight_decay;
  for (const auto& [name, tensor] : named_params) {
    std::size_t target = rules.size();
    for (std::size_t r = 0; r < rules.size() && target == rules.size(); ++r)
      for (const auto& pattern : rules[r].patterns)
        if (fnmatch(pattern.c_str(), name.c_str(), 0) == 0) {
          target = r;
          break;
        }
    groups[target].params.push_back(tensor);
    groups[target].param_names.push_back(name);
  }
  std::vector<ParamGroup> nonempty;
  for (auto& g : groups)
    if (!g.params.empty()) nonempty.push_back(std::move(g));
  return nonempty;
}

}  // namespace laplex::optim
