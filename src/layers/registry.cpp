#include "layers/registry.h"

#include <map>

namespace laplex {

namespace {
// Filled only during static initialisation (by ModuleRegistration objects),
// read-only afterwards.
std::map<std::string, ModuleBuilder>& builders() {
  static std::map<std::string, ModuleBuilder> table;
  return table;
}
}  // namespace

ModuleRegistration::ModuleRegistration(const std::string& type, ModuleBuilder builder) {
  builders().emplace(type, std::move(builder));
}

std::vector<std::string> registered_module_types() {
  std::vector<std::string> out;
  for (auto& [name, builder] : builders()) out.push_back(name);
  return out;
}

std::shared_ptr<Module> build_module(config::ConfigNode node, BuildContext& context) {
  const std::string type = node.get<std::string>("type");
  auto it = builders().find(type);
  if (it == builders().end()) {
    std::string known;
    for (auto& name : registered_module_types()) known += (known.empty() ? "" : ", ") + name;
    node.fail("type", "unknown layer type '" + type + "' (known: " + known + ")");
  }
  auto module = it->second(node, context);
  node.finish();
  return module;
}

}  // namespace laplex
