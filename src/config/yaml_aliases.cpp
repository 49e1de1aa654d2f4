#include "config/yaml_aliases.h"

#include <map>
#include <set>
#include <sstream>
#include <vector>

#include <yaml-cpp/eventhandler.h>

#include "core/error.h"

namespace laplex::config {

namespace {

std::string at(const std::string& source, bool cite_lines, const YAML::Mark& mark) {
  std::string where = source;
  if (cite_lines && mark.line >= 0) {
    where += ':';
    where += std::to_string(mark.line + 1);
  }
  return where;
}

// Walks the parser's events, counting the nodes the text stands for once
// every alias is replaced by the node it names. yaml-cpp registers an
// anchor before the events of its node, so an alias met while that node is
// still open refers to a node that contains it.
class AliasCounter : public YAML::EventHandler {
 public:
  AliasCounter(std::string source, bool cite_lines)
      : source_(std::move(source)), cite_lines_(cite_lines) {}

  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}
  void OnAnchor(const YAML::Mark&, const std::string& name) override { pending_name_ = name; }
  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override { leaf(mark, anchor); }
  void OnScalar(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                const std::string&) override {
    leaf(mark, anchor);
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value) override {
    open(mark, anchor);
  }
  void OnSequenceEnd() override { close(); }
  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value) override {
    open(mark, anchor);
  }
  void OnMapEnd() override { close(); }

  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    if (open_anchors_.count(anchor))
      throw UsageError(at(source_, cite_lines_, mark) + ": the alias " + alias_name(anchor) +
                       " is inside the node it names (a cycle); YAML aliases must refer to a "
                       "node that is complete");
    add(sizes_[anchor], mark);
  }

 private:
  struct OpenNode {
    YAML::anchor_t anchor;
    std::uint64_t total_before;
  };

  std::string alias_name(YAML::anchor_t anchor) const {
    const auto name = names_.find(anchor);
    return name == names_.end() ? "here" : "*" + name->second;
  }

  void name(YAML::anchor_t anchor) {
    if (anchor != YAML::NullAnchor && !pending_name_.empty()) names_[anchor] = pending_name_;
    pending_name_.clear();
  }

  void leaf(const YAML::Mark& mark, YAML::anchor_t anchor) {
    add(1, mark);
    if (anchor != YAML::NullAnchor) sizes_[anchor] = 1;
    name(anchor);
  }

  void open(const YAML::Mark& mark, YAML::anchor_t anchor) {
    add(1, mark);
    stack_.push_back({anchor, total_ - 1});
    if (anchor != YAML::NullAnchor) open_anchors_.insert(anchor);
    name(anchor);
  }

  void close() {
    const OpenNode node = stack_.back();
    stack_.pop_back();
    if (node.anchor == YAML::NullAnchor) return;
    open_anchors_.erase(node.anchor);
    sizes_[node.anchor] = total_ - node.total_before;
  }

  void add(std::uint64_t nodes, const YAML::Mark& mark) {
    // Compared before adding: sizes are at most the limit, so nothing overflows.
    if (nodes > kMaxExpandedYamlNodes - total_)
      throw UsageError(at(source_, cite_lines_, mark) + ": its aliases expand to more than " +
                       std::to_string(kMaxExpandedYamlNodes) + " YAML nodes");
    total_ += nodes;
  }

  std::string source_;
  bool cite_lines_;
  std::string pending_name_;
  std::uint64_t total_ = 0;
  std::vector<OpenNode> stack_;
  std::set<YAML::anchor_t> open_anchors_;
  std::map<YAML::anchor_t, std::uint64_t> sizes_;
  std::map<YAML::anchor_t, std::string> names_;
};

bool is_merge_key(const YAML::Node& key) { return key.IsScalar() && key.Scalar() == "<<"; }

}  // namespace

void check_yaml_aliases(const std::string& text, const std::string& source, bool cite_lines) {
  std::istringstream in(text);
  YAML::Parser parser(in);
  AliasCounter counter(source, cite_lines);
  while (parser.HandleNextDocument(counter)) {
  }
}

void expand_merge_keys(YAML::Node node, const std::string& source, bool cite_lines) {
  if (node.IsSequence()) {
    for (YAML::Node item : node) expand_merge_keys(item, source, cite_lines);
    return;
  }
  if (!node.IsMap()) return;
  // A default-constructed YAML::Node counts as defined: a flag says whether one was found.
  bool has_merge_key = false;
  YAML::Node merged;
  for (auto entry : node) {
    if (is_merge_key(entry.first)) {
      merged = entry.second;
      has_merge_key = true;
    } else {
      expand_merge_keys(entry.second, source, cite_lines);
    }
  }
  if (!has_merge_key) return;
  std::vector<YAML::Node> mappings;
  if (merged.IsSequence())
    for (YAML::Node item : merged) mappings.push_back(item);
  else
    mappings.push_back(merged);
  for (YAML::Node& mapping : mappings) {
    if (!mapping.IsMap())
      throw UsageError(at(source, cite_lines, mapping.Mark()) +
                       ": <<: expected a mapping or a list of mappings to merge (a YAML merge key)");
    expand_merge_keys(mapping, source, cite_lines);
  }
  node.remove("<<");
  // Looked up through a const handle: a missing key is not added. The values
  // stay shared, so an error in one cites the line where it was written (a
  // YAML::Clone has no position).
  const YAML::Node& lookup = node;
  for (const YAML::Node& mapping : mappings)
    for (auto entry : mapping)
      if (entry.first.IsScalar() && !lookup[entry.first.Scalar()])
        node.force_insert(YAML::Clone(entry.first), entry.second);
}

}  // namespace laplex::config
