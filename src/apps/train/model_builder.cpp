#include "apps/train/model_builder.h"

#include <new>

#include "layers/registry.h"
#include "optim/adam.h"
#include "optim/param_groups.h"
#include "optim/sgd.h"

namespace laplex::train {

std::shared_ptr<Module> build_model_from_yaml(const YAML::Node& model, std::uint64_t seed,
                                              const std::string& source,
                                              const config::ConfigOverrides& overrides) {
  BuildContext context{seed};
  // Layer sizes are checked one by one, not against the machine: a model
  // too large to allocate is a config error too, not a crash or exit 1.
  try {
    return build_module(config::ConfigNode(model, source, "model", overrides), context);
  } catch (const std::bad_alloc&) {
    throw UsageError(source + ": model: its parameters do not fit in this machine's memory");
  } catch (const UsageError&) {
    throw;
  } catch (const Error& e) {
    throw UsageError(source + ": model: " + e.what());
  }
}

std::shared_ptr<Module> build_model(const TrainConfig& config) {
  return build_model_from_yaml(config.model, config.seed, config.file, config.overrides);
}

std::unique_ptr<optim::Optimizer> build_optimizer(const TrainConfig& config, const Module& model) {
  const auto& o = config.optimizer;
  const auto named = model.named_parameters("model");
  auto groups = optim::make_param_groups(named, o.groups, o.lr, o.weight_decay);
  for (const auto& rule : o.groups) {
    bool used = false;
    for (const auto& g : groups) used = used || g.name == rule.name;
    if (used) continue;
    // The model's own names, since they differ from model to model.
    std::string names;
    for (std::size_t k = 0; k < named.size() && k < 3; ++k)
      names += (k ? ", " : "") + named[k].first;
    if (named.size() > 3) names += ", ... (" + std::to_string(named.size()) + " in all)";
    throw UsageError(config.file + ": optimizer.groups: group '" + rule.name +
                     "' matches no parameter (this model's are " + names + ")");
  }
  // The optimizers check their options themselves; say where they came from.
  try {
    if (o.type == "sgd")
      return std::make_unique<optim::Sgd>(groups, optim::SgdOptions{o.momentum, o.nesterov});
    return std::make_unique<optim::Adam>(
        groups, optim::AdamOptions{o.beta1, o.beta2, o.eps, o.type == "adamw"});
  } catch (const UsageError& e) {
    throw UsageError(config.file + ": optimizer: " + e.what());
  }
}

}  // namespace laplex::train
