#pragma once
// Builds the model and the optimizer a training config describes.
#include <memory>

#include "apps/train/train_config.h"
#include "layers/module.h"
#include "optim/optimizer.h"

namespace laplex::train {

// The module tree of config.model, initialised from config.seed, on the CPU.
std::shared_ptr<Module> build_model(const TrainConfig& config);
// Also what laplex-eval uses: the model section of an embedded config alone.
std::shared_ptr<Module> build_model_from_yaml(const YAML::Node& model, std::uint64_t seed,
                                              const std::string& source,
                                              const config::ConfigOverrides& overrides = {});
// The optimizer over the model's parameters, in the config's groups.
std::unique_ptr<optim::Optimizer> build_optimizer(const TrainConfig& config, const Module& model);

}  // namespace laplex::train
