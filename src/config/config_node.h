#pragma once
// A YAML mapping read with validation: every key must be read by the code
// that consumes the node, and finish() reports the first one that was not,
// with its file and line. Wrong types and missing keys are reported the same
// way. All errors are UsageError: they come from user input.
#include <yaml-cpp/yaml.h>

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "core/error.h"

namespace laplex::config {

// Keys set on the command line, by the path that messages use
// ("model.layers[0].out"), each with the argument that set it as typed
// ("--set model.layers.0.out=8"): an error about such a key, or about
// anything inside its value, cites the argument, not the file (a value
// parsed from an argument has no line of the file).
using ConfigOverrides = std::map<std::string, std::string>;

class ConfigNode {
 public:
  // `file` and `path` (e.g. "model.layers[2]") only label error messages.
  ConfigNode(YAML::Node node, std::string file, std::string path,
             ConfigOverrides overrides = {});

  bool has(const std::string& key) const;
  // The value at key converted to T (bool, int64_t, double, std::string,
  // std::vector<...>); throws UsageError when missing or of the wrong type.
  template <class T>
  T get(const std::string& key);
  template <class T>
  T get_or(const std::string& key, const T& fallback);
  // One of `choices`.
  std::string get_choice(const std::string& key, const std::vector<std::string>& choices,
                         const std::string& fallback);
  ConfigNode child(const std::string& key);           // a nested mapping
  std::vector<ConfigNode> children(const std::string& key);  // a sequence of mappings
  // Marks a key as consumed without reading it (e.g. "type", read by the registry).
  void accept(const std::string& key);
  // Throws UsageError naming the first key never read.
  void finish() const;

  const YAML::Node& yaml() const { return node_; }
  const std::string& file() const { return file_; }
  const std::string& path() const { return path_; }
  // "file:line: path.key" for messages about `key` (or the node itself);
  // "ARGUMENT: path.key" when that key came from an override.
  std::string where(const std::string& key = "") const;
  [[noreturn]] void fail(const std::string& key, const std::string& message) const;

 private:
  YAML::Node node_;
  std::string file_;
  std::string path_;
  std::shared_ptr<std::set<std::string>> used_;
  std::shared_ptr<const ConfigOverrides> overrides_;

  ConfigNode(YAML::Node node, std::string file, std::string path,
             std::shared_ptr<const ConfigOverrides> overrides);
  // The argument that gave `label` (or the mapping or list holding
  // it) its value; null when the file did.
  const std::string* override_of(const std::string& label) const;
  // An argument that set a key inside `label` ("--set foo.bar=1" for "foo").
  const std::string* override_inside(const std::string& label) const;
  std::string located(int line, const std::string& label) const;
};

// Loads a YAML file; syntax errors and missing files become UsageError.
YAML::Node load_yaml_file(const std::string& path);

}  // namespace laplex::config
