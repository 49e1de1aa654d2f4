// YAML anchors, aliases and merge keys in configs: a self-referring alias
// segfaulted laplex-train (yaml-cpp builds a cyclic graph), nested aliases
// could stand for more nodes than any walk would finish, and merge keys
// (`<<: *defaults`) were reported as an unknown key "<<".
#include "config/yaml_aliases.h"

#include <gtest/gtest.h>

#include <fstream>
#include <functional>

#include "apps/train/train_config.h"
#include "config/config_node.h"
#include "core/error.h"
#include "helpers/temp_dir.h"

namespace laplex::config {
namespace {

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const UsageError& e) {
    return e.what();
  }
  return "(no error)";
}

std::string write(const std::string& name, const std::string& text) {
  const auto dir = laplex::testing::fresh_temp_dir("yaml_aliases_" + name);
  const std::string path = (dir / "config.yaml").string();
  std::ofstream(path) << text;
  return path;
}

TEST(YamlAliases, AnAliasInsideTheNodeItNamesIsACycleWithItsLine) {
  const std::string path =
      write("cycle", "seed: 1\nmodel: &x\n  type: sequential\n  layers: [*x]\n");
  EXPECT_EQ(error_of([&] { load_yaml_file(path); }),
            path + ":4: the alias *x is inside the node it names (a cycle); YAML aliases must "
                   "refer to a node that is complete");
  // The same through laplex-train's config loader and a --set value (no line there).
  EXPECT_NE(error_of([&] { train::load_train_config(path, {}); }).find(":4: the alias *x"),
            std::string::npos);
  YAML::Node document = YAML::Load("seed: 1\n");
  EXPECT_EQ(error_of([&] { train::apply_override(document, "model=&m {layers: [*m]}"); }),
            "--set model=&m {layers: [*m]}: the alias *m is inside the node it names (a cycle); "
            "YAML aliases must refer to a node that is complete");
}

TEST(YamlAliases, AliasesThatExpandPastTheLimitAreRefused) {
  // Ten levels of ten aliases each: 10^10 nodes in a few hundred bytes.
  std::string text = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n";
  for (int level = 1; level <= 10; ++level) {
    text += "a" + std::to_string(level) + ": &a" + std::to_string(level) + " [";
    for (int k = 0; k < 10; ++k)
      text += (k ? ", *a" : "*a") + std::to_string(level - 1);
    text += "]\n";
  }
  const std::string path = write("laughs", text);
  EXPECT_EQ(error_of([&] { load_yaml_file(path); }),
            path + ":6: its aliases expand to more than 1000000 YAML nodes");
  // Aliases within the limit are fine, however many.
  EXPECT_EQ(error_of([&] { check_yaml_aliases("a: &a [1, 2]\nb: [*a, *a, *a]\n", "t.yaml"); }),
            "(no error)");
}

TEST(YamlAliases, MergeKeysCopyTheKeysAMappingLacks) {
  const std::string path = write("merge", R"(model:
  type: sequential
  layers:
    - &hidden {type: linear, in: 32, out: 16, bias: false}
    - {<<: *hidden, in: 16, out: 4}
    - {<<: [{out: 2, in: 9}, {out: 3, bias: true}], type: linear}
)");
  const YAML::Node config = load_yaml_file(path);
  const YAML::Node merged = config["model"]["layers"][1];
  EXPECT_FALSE(merged["<<"]);
  EXPECT_EQ(merged["type"].as<std::string>(), "linear");
  EXPECT_EQ(merged["in"].as<int>(), 16);  // its own keys win
  EXPECT_EQ(merged["out"].as<int>(), 4);
  EXPECT_FALSE(merged["bias"].as<bool>());
  // A list of mappings: the first one listed wins.
  const YAML::Node listed = config["model"]["layers"][2];
  EXPECT_EQ(listed["out"].as<int>(), 2);
  EXPECT_EQ(listed["in"].as<int>(), 9);
  EXPECT_TRUE(listed["bias"].as<bool>());
  // A merged value keeps the line where it was written, for messages.
  EXPECT_EQ(merged["type"].Mark().line + 1, 4);
  // Merges nest: a mapping merged in may itself merge another.
  const YAML::Node nested = YAML::Load("a: &a {x: 1}\nb: &b {<<: *a, y: 2}\nc: {<<: *b, z: 3}\n");
  expand_merge_keys(nested, "t.yaml");
  EXPECT_EQ(nested["c"]["x"].as<int>(), 1);
  EXPECT_EQ(nested["c"]["y"].as<int>(), 2);
}

TEST(YamlAliases, AMergeKeyOfAValueIsAUsageError) {
  const std::string path = write("merge_scalar", "optimizer:\n  <<: 0.1\n  type: adam\n");
  EXPECT_EQ(error_of([&] { load_yaml_file(path); }),
            path + ":2: <<: expected a mapping or a list of mappings to merge (a YAML merge key)");
}

}  // namespace
}  // namespace laplex::config
