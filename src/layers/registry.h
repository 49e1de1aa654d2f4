#pragma once
// Builds modules from YAML by their `type:`. Each layer registers its own
// builder from its own file with a static ModuleRegistration, so adding a
// layer never edits a central list.
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "config/config_node.h"
#include "layers/module.h"

namespace laplex {

// What a builder reads besides its own keys: the seed for initialisation.
// Each module that draws random numbers takes the next stream (seed, index),
// so its initial values do not depend on how many numbers the modules
// before it drew; adding or removing a seeded layer (dropout included) still
// renumbers the streams of the seeded layers after it.
struct BuildContext {
  std::uint64_t seed = 0;
  std::uint64_t next_stream = 0;
  std::uint64_t take_stream() { return next_stream++; }
};

using ModuleBuilder =
    std::function<std::shared_ptr<Module>(config::ConfigNode& node, BuildContext& context)>;

// Builds the module described by `node` (reads `type`, then the builder reads
// the rest; unknown keys are UsageErrors naming file and line).
std::shared_ptr<Module> build_module(config::ConfigNode node, BuildContext& context);
std::vector<std::string> registered_module_types();

struct ModuleRegistration {
  ModuleRegistration(const std::string& type, ModuleBuilder builder);
};

}  // namespace laplex
