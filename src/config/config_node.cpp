#include "config/config_node.h"

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <yaml-cpp/depthguard.h>

#include "config/yaml_aliases.h"
#include "core/printable.h"

namespace laplex::config {

namespace {

template <class T>
std::string type_label() {
  if constexpr (std::is_same_v<T, bool>) return "a boolean";
  else if constexpr (std::is_integral_v<T>) return "an integer";
  else if constexpr (std::is_floating_point_v<T>) return "a number";
  else if constexpr (std::is_same_v<T, std::string>) return "a string";
  else return "a list";
}

// yaml-cpp tags a quoted scalar "!" and a plain one "?". A quoted "0.1" is
// text by YAML's rules, and PyYAML and other tools read it as a string:
// taking it as a number here would make one config mean two things.
bool is_quoted_scalar(const YAML::Node& node) { return node.IsScalar() && node.Tag() == "!"; }

// What one item of a list of T is: "an integer" for std::vector<std::int64_t>.
template <class T>
struct ItemOf {
  using type = T;
};
template <class T>
struct ItemOf<std::vector<T>> {
  using type = T;
};

int line_of(const YAML::Node& node) {
  const auto mark = node.Mark();
  return mark.line >= 0 ? mark.line + 1 : 0;
}

}  // namespace

ConfigNode::ConfigNode(YAML::Node node, std::string file, std::string path,
                       ConfigOverrides overrides)
    : ConfigNode(std::move(node), std::move(file), std::move(path),
                 std::make_shared<const ConfigOverrides>(std::move(overrides))) {}

ConfigNode::ConfigNode(YAML::Node node, std::string file, std::string path,
                       std::shared_ptr<const ConfigOverrides> overrides)
    : node_(std::move(node)),
      file_(std::move(file)),
      path_(std::move(path)),
      used_(std::make_shared<std::set<std::string>>()),
      overrides_(std::move(overrides)) {
  if (node_ && !node_.IsMap() && !node_.IsNull())
    throw UsageError(where() + ": expected a mapping of keys to values");
}

const std::string* ConfigNode::override_of(const std::string& label) const {
  const std::string* found = nullptr;
  std::size_t found_length = 0;
  for (const auto& [key, argument] : *overrides_) {
    const bool inside = label.size() > key.size() && label.compare(0, key.size(), key) == 0 &&
                        (label[key.size()] == '.' || label[key.size()] == '[');
    // The most specific override: "model.layers[0].out" within "model".
    if ((label == key || inside) && (!found || key.size() > found_length)) {
      found = &argument;
      found_length = key.size();
    }
  }
  return found;
}

const std::string* ConfigNode::override_inside(const std::string& label) const {
  for (const auto& [key, argument] : *overrides_)
    if (key.size() > label.size() && key.compare(0, label.size(), label) == 0 &&
        (key[label.size()] == '.' || key[label.size()] == '['))
      return &argument;
  return nullptr;
}

std::string ConfigNode::located(int line, const std::string& label) const {
  if (const std::string* argument = override_of(label)) return *argument + ": " + label;
  return file_ + (line > 0 ? ":" + std::to_string(line) : "") + ": " +
         (label.empty() ? "(top level)" : label);
}

std::string ConfigNode::where(const std::string& key) const {
  int line = line_of(node_);
  if (!key.empty() && node_.IsMap() && node_[key]) line = line_of(node_[key]);
  std::string label = path_;
  if (!key.empty()) label += (label.empty() ? "" : ".") + key;
  return located(line, label);
}

void ConfigNode::fail(const std::string& key, const std::string& message) const {
  throw UsageError(where(key) + ": " + message);
}

bool ConfigNode::has(const std::string& key) const {
  return node_.IsMap() && node_[key] && !node_[key].IsNull();
}

void ConfigNode::accept(const std::string& key) { used_->insert(key); }

template <class T>
T ConfigNode::get(const std::string& key) {
  used_->insert(key);
  if (!has(key)) fail(key, "missing (expected " + type_label<T>() + ")");
  const YAML::Node value = node_[key];
  if constexpr (!std::is_same_v<T, std::string> && !std::is_same_v<T, std::vector<std::string>>) {
    if (is_quoted_scalar(value))
      fail(key, "expected " + type_label<T>() + ", not the quoted text \"" +
                    printable(value.Scalar()) + "\" (write it without quotes)");
    if (value.IsSequence())
      for (std::size_t i = 0; i < value.size(); ++i)
        if (is_quoted_scalar(value[i]))
          fail(key, "item " + std::to_string(i) + " is the quoted text \"" +
                        printable(value[i].Scalar()) + "\"; expected " + type_label<typename ItemOf<T>::type>() +
                        " (write it without quotes)");
  }
  try {
    return value.as<T>();
  } catch (const YAML::Exception&) {
    fail(key, "expected " + type_label<T>());
  }
}

template <class T>
T ConfigNode::get_or(const std::string& key, const T& fallback) {
  used_->insert(key);
  return has(key) ? get<T>(key) : fallback;
}

template bool ConfigNode::get<bool>(const std::string&);
template std::int64_t ConfigNode::get<std::int64_t>(const std::string&);
template double ConfigNode::get<double>(const std::string&);
template std::string ConfigNode::get<std::string>(const std::string&);
template std::vector<std::int64_t> ConfigNode::get<std::vector<std::int64_t>>(const std::string&);
template std::vector<double> ConfigNode::get<std::vector<double>>(const std::string&);
template std::vector<std::string> ConfigNode::get<std::vector<std::string>>(const std::string&);
template bool ConfigNode::get_or<bool>(const std::string&, const bool&);
template std::int64_t ConfigNode::get_or<std::int64_t>(const std::string&, const std::int64_t&);
template double ConfigNode::get_or<double>(const std::string&, const double&);
template std::string ConfigNode::get_or<std::string>(const std::string&, const std::string&);
template std::vector<std::int64_t> ConfigNode::get_or<std::vector<std::int64_t>>(
    const std::string&, const std::vector<std::int64_t>&);
template std::vector<double> ConfigNode::get_or<std::vector<double>>(const std::string&,
                                                                     const std::vector<double>&);
template std::vector<std::string> ConfigNode::get_or<std::vector<std::string>>(
    const std::string&, const std::vector<std::string>&);

std::string ConfigNode::get_choice(const std::string& key, const std::vector<std::string>& choices,
                                   const std::string& fallback) {
  const std::string value = get_or<std::string>(key, fallback);
  for (const auto& c : choices)
    if (c == value) return value;
  std::string list;
  for (const auto& c : choices) list += (list.empty() ? "" : ", ") + c;
  fail(key, "'" + value + "' is not one of " + list);
}

ConfigNode ConfigNode::child(const std::string& key) {
  used_->insert(key);
  const std::string label = path_.empty() ? key : path_ + "." + key;
  if (!has(key)) return ConfigNode(YAML::Node(YAML::NodeType::Map), file_, label, overrides_);
  if (!node_[key].IsMap()) fail(key, "expected a mapping");
  return ConfigNode(node_[key], file_, label, overrides_);
}

std::vector<ConfigNode> ConfigNode::children(const std::string& key) {
  used_->insert(key);
  std::vector<ConfigNode> out;
  if (!has(key)) return out;
  const YAML::Node list = node_[key];
  if (!list.IsSequence()) fail(key, "expected a list");
  const std::string base = path_.empty() ? key : path_ + "." + key;
  for (std::size_t i = 0; i < list.size(); ++i)
    out.push_back(ConfigNode(list[i], file_, base + "[" + std::to_string(i) + "]", overrides_));
  return out;
}

void ConfigNode::finish() const {
  if (!node_.IsMap()) return;
  // A YAML mapping may repeat a key; lookups see only the first, so a second
  // one would be silently ignored.
  std::set<std::string> seen;
  for (const auto& entry : node_) {
    const int line = line_of(entry.first);
    if (!entry.first.IsScalar()) {
      const std::string at = path_.empty()
                                 ? file_ + (line > 0 ? ":" + std::to_string(line) : "")
                                 : located(line, path_);
      throw UsageError(at + ": a key must be a plain name, not a list or mapping");
    }
    const std::string& key = entry.first.Scalar();
    const std::string name = path_.empty() ? key : path_ + "." + key;
    if (!seen.insert(key).second) throw UsageError(located(line, name) + ": duplicate key");
    if (!used_->count(key)) {
      // A key that only an override wrote ("--set foo.bar=1" makes foo)
      // has no line in the file: cite the argument.
      const std::string* argument = override_of(name);
      if (!argument) argument = override_inside(name);
      throw UsageError((argument ? *argument + ": " + name : located(line, name)) +
                       ": unknown key");
    }
  }
}

YAML::Node load_yaml_file(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    throw UsageError(path + ": is a directory, expected a YAML config file");
  std::ifstream in(path);
  if (!in) throw UsageError(path + ": cannot open config file");
  try {
    std::ostringstream text;
    text << in.rdbuf();
    check_yaml_aliases(text.str(), path);
    // A second document (after ---) would be silently ignored by Load.
    std::vector<YAML::Node> documents = YAML::LoadAll(text.str());
    if (documents.size() > 1)
      throw UsageError(path + ": holds " + std::to_string(documents.size()) +
                       " YAML documents (separated by ---); a config is one");
    if (documents.empty()) return YAML::Node();
    expand_merge_keys(documents.front(), path);
    return documents.front();
  } catch (const UsageError&) {
    throw;
  } catch (const YAML::DeepRecursion& e) {
    // yaml-cpp's own text for this is "bad file", which says nothing.
    throw UsageError(path + ":" + std::to_string(e.mark.line + 1) +
                     ": nested too deeply for the YAML parser (it stops at " +
                     std::to_string(e.depth()) + " levels of recursion)");
  } catch (const YAML::ParserException& e) {
    throw UsageError(path + ":" + std::to_string(e.mark.line + 1) + ": YAML syntax error: " +
                     e.msg);
  } catch (const std::exception& e) {
    throw UsageError(path + ": cannot read config file (" + e.what() + ")");
  }
}

}  // namespace laplex::config
