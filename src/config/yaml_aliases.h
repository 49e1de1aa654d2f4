#pragma once
// YAML anchors (&name) and aliases (*name) in config text, made safe and
// useful:
//   check_yaml_aliases(text, source)   throws UsageError ("source:line: ...")
//       for an alias inside the node it names, which yaml-cpp turns into a
//       cyclic graph (walking it overflowed the stack: a segfault), and for
//       aliases of aliases that expand past kMaxExpandedYamlNodes (a
//       "billion laughs" text of a few lines that no walk would finish).
//   expand_merge_keys(node, source)    applies YAML merge keys: in a mapping,
//       `<<: *defaults` (or a list of them) copies the keys of the mapping(s)
//       given that the mapping lacks; the first mapping listed wins.
// Check the text before loading it, then expand the loaded node.
#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <string>

namespace laplex::config {

// Far above any config (a few hundred nodes); far below what would hang.
inline constexpr std::uint64_t kMaxExpandedYamlNodes = 1'000'000;

// `source` labels messages; `cite_lines` adds ":line" (not for a --set value).
void check_yaml_aliases(const std::string& text, const std::string& source, bool cite_lines = true);

void expand_merge_keys(YAML::Node node, const std::string& source, bool cite_lines = true);

}  // namespace laplex::config
