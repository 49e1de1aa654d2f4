#include "apps/train/optimizer_state.h"

#include <sstream>

#include "core/error.h"

namespace laplex::train {

std::string optimizer_order(const optim::Optimizer& optimizer) {
  std::string names;
  for (const auto& group : optimizer.groups())
    for (const auto& name : group.param_names) names += name + "\n";
  return names;
}

std::map<std::string, Tensor> optimizer_state_for(const Checkpoint& resumed,
                                                  const TrainConfig& config,
                                                  const optim::Optimizer& optimizer,
                                                  const std::string& file) {
  std::map<std::string, Tensor> state;
  for (auto& [name, t] : resumed.train_state)
    if (name.rfind("optimizer.", 0) == 0) state[name.substr(10)] = t;
  const auto& meta = resumed.train_metadata;
  if (auto type = meta.find("optimizer.type");
      type != meta.end() && type->second != config.optimizer.type)
    throw UsageError(file + ": its optimizer is " + type->second + ", the config's " +
                     config.optimizer.type + " (a resumed run continues the same optimizer)");
  const auto saved = meta.find("optimizer.parameters");
  const std::string order = optimizer_order(optimizer);
  if (saved == meta.end() || saved->second == order) return state;
  std::map<std::string, std::size_t> saved_index;
  std::istringstream lines(saved->second);
  std::string line;
  for (std::size_t i = 0; std::getline(lines, line); ++i) saved_index[line] = i;
  std::map<std::string, Tensor> renumbered;
  std::istringstream current(order);
  for (std::size_t i = 0; std::getline(current, line); ++i) {
    const auto it = saved_index.find(line);
    if (it == saved_index.end())
      throw UsageError(file + ": its optimizer state has no entry for parameter " + line);
    const std::string from = "param." + std::to_string(it->second) + ".";
    for (auto& [name, t] : state)
      if (name.rfind(from, 0) == 0)
        renumbered["param." + std::to_string(i) + "." + name.substr(from.size())] = t;
  }
  if (auto factor = state.find("lr_factor"); factor != state.end())
    renumbered["lr_factor"] = factor->second;
  return renumbered;
}

}  // namespace laplex::train
