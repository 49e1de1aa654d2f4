#include "apps/train/train_config.h"

#include <gtest/gtest.h>

#include <fstream>

#include "apps/train/model_builder.h"
#include "helpers/temp_dir.h"

namespace laplex::train {
namespace {

const char* kConfig = R"(seed: 3
data:
  dataset: synthetic
  batch_size: 32
model:
  type: sequential
  layers:
    - {type: linear, in: 32, out: 4}
optimizer:
  type: sgd
  lr: 0.1
  momentum: 0.9
  groups:
    - {name: anchors, patterns: ["*.t"], lr: 0.01}
train:
  epochs: 2
)";

TrainConfig parse(const std::string& text, const std::vector<std::string>& overrides = {}) {
  YAML::Node doc = YAML::Load(text);
  for (const auto& o : overrides) apply_override(doc, o);
  return parse_train_config(doc, "configs/example.yaml");
}

TEST(TrainConfig, ParsesDefaultsAndValues) {
  const TrainConfig c = parse(kConfig);
  EXPECT_EQ(c.run_dir, "runs/example");
  EXPECT_EQ(c.seed, 3u);
  EXPECT_EQ(c.data.batch_size, 32);
  EXPECT_EQ(c.optimizer.type, "sgd");
  EXPECT_DOUBLE_EQ(c.optimizer.momentum, 0.9);
  ASSERT_EQ(c.optimizer.groups.size(), 1u);
  EXPECT_DOUBLE_EQ(*c.optimizer.groups[0].lr, 0.01);
  EXPECT_FALSE(c.optimizer.groups[0].float64_master);
  EXPECT_TRUE(parse(kConfig, {"optimizer.groups.0.master_weights=float64"}).optimizer.groups[0].float64_master);
  EXPECT_EQ(c.loop.epochs, 2);
  EXPECT_EQ(c.model["layers"][0]["out"].as<int>(), 4);
}

TEST(TrainConfig, OverridesReachNestedKeysAndListItems) {
  const TrainConfig c =
      parse(kConfig, {"optimizer.lr=0.5", "model.layers.0.out=7", "run_dir=/tmp/x", "train.epochs=5"});
  EXPECT_DOUBLE_EQ(c.optimizer.lr, 0.5);
  EXPECT_EQ(c.model["layers"][0]["out"].as<int>(), 7);
  EXPECT_EQ(c.run_dir, "/tmp/x");
  EXPECT_EQ(c.loop.epochs, 5);
  // The embedded document carries the overrides too.
  EXPECT_NE(to_yaml_text(c.yaml).find("lr: 0.5"), std::string::npos);
}

TEST(TrainConfig, ErrorsNameKeyAndLine) {
  try {
    parse(std::string(kConfig) + "optimiser: {}\n");
    FAIL();
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("configs/example.yaml:17: optimiser: unknown key"),
              std::string::npos)
        << e.what();
  }
  EXPECT_THROW(parse(kConfig, {"optimizer.lr=fast"}), UsageError);
  EXPECT_THROW(parse(kConfig, {"optimizer.type=rmsprop"}), UsageError);
  EXPECT_THROW(parse(kConfig, {"model.layers.3.out=1"}), UsageError);
  EXPECT_THROW(parse(kConfig, {"noequals"}), UsageError);
  EXPECT_THROW(parse(kConfig, {"train.epochs=0"}), UsageError);
}

// A quoted "0.1" is a string to YAML (and to PyYAML reading the same
// file); a number key refuses it, naming the key and line, while string
// keys still take quoted text that looks like a number.
TEST(TrainConfig, QuotedNumbersAreRefusedWhereANumberIsExpected) {
  std::string text = kConfig;
  text.replace(text.find("lr: 0.1"), 7, "lr: \"0.1\"");
  try {
    parse(text);
    FAIL();
  } catch (const UsageError& e) {
    EXPECT_EQ(std::string(e.what()),
              "configs/example.yaml:11: optimizer.lr: expected a number, not the quoted text "
              "\"0.1\" (write it without quotes)");
  }
  EXPECT_THROW(parse(kConfig, {"train.epochs='3'"}), UsageError);
  EXPECT_THROW(parse(kConfig, {"seed=\"3\""}), UsageError);
  EXPECT_EQ(parse(kConfig, {"train.epochs=3"}).loop.epochs, 3);
  try {
    parse(kConfig, {"optimizer.type=adam", "optimizer.momentum=null", "optimizer.betas=[0.9, '0.99']"});
    FAIL();
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("optimizer.betas: item 1 is the quoted text \"0.99\"; "
                                         "expected a number"),
              std::string::npos)
        << e.what();
  }
  const TrainConfig c = parse(kConfig, {"run_dir='123'"});
  EXPECT_EQ(c.run_dir, "123");
}

// Values that would divide by zero, count backwards or be silently ignored
// are config errors naming their key (a zero log_every or step_size once
// killed the trainer with SIGFPE).
TEST(TrainConfig, ImpossibleLoopScheduleAndOptimizerValuesNameTheirKey) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"train.log_every=0", "train.log_every"},
      {"train.max_steps=-1", "train.max_steps"},
      {"train.checkpoint_every=-1", "train.checkpoint_every"},
      {"train.keep_last=99999999999", "train.keep_last"},
      {"train.epochs=4611686018427387904", "train.epochs"},
      {"run_dir=''", "run_dir"},
      {"device=''", "device"},
      {"device=cPu", "device: 'cPu' is not a device (auto, cpu, cuda or cuda:N)"},
      {"schedule.step_size=0", "schedule.step_size"},
      {"schedule.warmup_steps=-5", "schedule.warmup_steps"},
      {"schedule.total_steps=-3", "schedule.total_steps"},
      {"schedule.gamma=.nan", "schedule.gamma"},
      {"optimizer.clip_grad_norm=-1", "optimizer.clip_grad_norm"},
      {"optimizer.lr=.inf", "optimizer.lr"},
      {"optimizer.betas=[0.9, 1.5]", "optimizer.betas"},
      {"optimizer.groups.0.lr=-0.1", "optimizer.groups[0].lr"},
      {"optimizer.groups.0.master_weights=float32", "optimizer.groups[0].master_weights"},
      {"data.batch_size=9223372036854775807", "data.batch_size"},
      {"data.synthetic_train=0", "data.synthetic_train"},
      {"data.synthetic_train=9223372036854775807", "data.synthetic_train: must be <= 2^31"},
      {"data.synthetic_test=2147483649", "data.synthetic_test"},
      {"data.synthetic_features=2147483649", "data.synthetic_features"},
      {"data.synthetic_features=0", "data.synthetic_features"},
      {"data.synthetic_classes=1", "data.synthetic_classes"},
      {"data.random_crop=1000000000000", "data.random_crop"},
      {"data.mean=[.nan]", "data.mean"},
      {"data.std=[.inf]", "data.std"},
  };
  for (const auto& [assignment, key] : cases) {
    try {
      parse(kConfig, {assignment});
      ADD_FAILURE() << assignment << " was accepted";
    } catch (const UsageError& e) {
      EXPECT_NE(std::string(e.what()).find(key), std::string::npos) << assignment << ": " << e.what();
    }
  }
  // An eps float32 rounds to 0 made Adam divide 0 by 0 on a parameter with
  // no gradient, and the run "diverged".
  try {
    parse(kConfig, {"optimizer.type=adam", "optimizer.momentum=null", "optimizer.eps=1e-320"});
    ADD_FAILURE() << "eps 1e-320 was accepted";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("optimizer.eps: must be a finite number >= 1.2e-38"),
              std::string::npos)
        << e.what();
  }
  EXPECT_NO_THROW(parse(kConfig, {"optimizer.type=adam", "optimizer.momentum=null", "optimizer.eps=1e-30"}));
}

// Keys of another optimizer type or schedule kind were ignored: momentum
// under adam trained without momentum, exit 0.
TEST(TrainConfig, KeysOfAnotherOptimizerTypeOrScheduleKindAreRefused) {
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"optimizer.type=adam"},
       "optimizer.momentum: applies to sgd only, not to type adam (remove it, or --set "
       "optimizer.momentum=null)"},
      {{"optimizer.betas=[0.9, 0.99]"}, "optimizer.betas: applies to adam and adamw only, not to type sgd"},
      {{"optimizer.eps=1e-6"}, "optimizer.eps: applies to adam and adamw only"},
      {{"optimizer.type=adamw", "optimizer.momentum=null", "optimizer.nesterov=false"},
       "optimizer.nesterov: applies to sgd only, not to type adamw"},
      {{"schedule={kind: cosine, gamma: 0.5}"}, "schedule.gamma: applies to step only, not to kind cosine"},
      {{"schedule={kind: step, min_factor: 0.1}"}, "schedule.min_factor: applies to cosine only"},
      {{"schedule={step_size: 10}"}, "schedule.step_size: applies to step only, not to kind constant"},
      {{"schedule={kind: constant, total_steps: 10}"}, "schedule.total_steps: applies to cosine only"},
      {{"optimizer.momentum=-0.5"}, "optimizer.momentum: must be a finite number >= 0"},
  };
  for (const auto& [assignments, expected] : cases) {
    try {
      parse(kConfig, assignments);
      ADD_FAILURE() << assignments[0] << " was accepted";
    } catch (const UsageError& e) {
      EXPECT_NE(std::string(e.what()).find(expected), std::string::npos) << e.what();
    }
  }
  // Null drops a key: the switch to adam goes through.
  const TrainConfig c = parse(kConfig, {"optimizer.type=adam", "optimizer.momentum=null"});
  EXPECT_EQ(c.optimizer.type, "adam");
  EXPECT_EQ(parse(kConfig, {"schedule={kind: step, step_size: 3, gamma: 0.5}"}).schedule.step_size, 3);
}

TEST(TrainConfig, DuplicateAndNonScalarKeysAreErrorsWithTheirLine) {
  try {
    parse(std::string(kConfig) + "seed: 4\n");
    FAIL() << "a second seed was accepted";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("configs/example.yaml:17: seed: duplicate key"),
              std::string::npos)
        << e.what();
  }
  try {
    parse(std::string(kConfig) + "[a, b]: 1\n");
    FAIL() << "a list as a key was accepted";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("configs/example.yaml:17: a key must be a plain name"),
              std::string::npos)
        << e.what();
  }
}

TEST(TrainConfig, AnOverrideBelowAValueIsAUsageError) {
  try {
    parse(kConfig, {"train.epochs.x=1"});
    FAIL();
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("'epochs' holds a value"), std::string::npos) << e.what();
  }
}

// A value given with --set has no line in the file: its errors cite the
// argument (they once said "file.yaml:1", the line of the value's own text).
TEST(TrainConfig, ErrorsAboutOverriddenKeysCiteTheArgumentNotTheFile) {
  const auto dir = laplex::testing::fresh_temp_dir("train_config_override_errors");
  const std::string file = (dir / "example.yaml").string();
  std::ofstream(file) << kConfig;
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"optimizer.lr=fast", "--set optimizer.lr=fast: optimizer.lr: expected a number"},
      {"data.bogus=1", "--set data.bogus=1: data.bogus: unknown key"},
      {"train.epochs=0", "--set train.epochs=0: train.epochs: must be in [1, 2^31]"},
      {"optimizer.groups.0.lr=-0.1", "--set optimizer.groups.0.lr=-0.1: optimizer.groups[0].lr"},
      {"data={dataset: synthetic, batch_size: x}", "--set data={dataset: synthetic, batch_size: x}: data.batch_size: expected an integer"},
  };
  for (const auto& [assignment, expected] : cases) {
    try {
      load_train_config(file, {assignment});
      ADD_FAILURE() << assignment << " was accepted";
    } catch (const UsageError& e) {
      EXPECT_EQ(std::string(e.what()).rfind(expected, 0), 0u) << assignment << ": " << e.what();
    }
  }
  // Keys the file gave keep their file:line, next to an override.
  try {
    std::ofstream(file) << std::string(kConfig) + "bogus: 1\n";
    load_train_config(file, {"optimizer.lr=0.5"});
    ADD_FAILURE() << "an unknown key was accepted";
  } catch (const UsageError& e) {
    EXPECT_EQ(std::string(e.what()), file + ":17: bogus: unknown key");
  }
  // The model section is checked by the module registry, with the same citations.
  const std::vector<std::pair<std::string, std::string>> model_cases = {
      {"model.layers.0.out=x", "--set model.layers.0.out=x: model.layers[0].out: expected an integer"},
      {"model.layers.0.bogus=1", "--set model.layers.0.bogus=1: model.layers[0].bogus: unknown key"},
      {"model.layers=[{type: linear, in: 32, out: x}]",
       "--set model.layers=[{type: linear, in: 32, out: x}]: model.layers[0].out"},
  };
  std::ofstream(file) << kConfig;
  for (const auto& [assignment, expected] : model_cases) {
    try {
      build_model(load_train_config(file, {assignment}));
      ADD_FAILURE() << assignment << " was accepted";
    } catch (const UsageError& e) {
      EXPECT_EQ(std::string(e.what()).rfind(expected, 0), 0u) << assignment << ": " << e.what();
    }
  }
}

// A second document was silently ignored (keys and all).
TEST(TrainConfig, AFileOfSeveralYamlDocumentsIsAUsageError) {
  const auto dir = laplex::testing::fresh_temp_dir("train_config_documents");
  const std::string file = (dir / "two.yaml").string();
  std::ofstream(file) << kConfig << "---\noptimizer: {lr: -5}\n";
  try {
    load_train_config(file, {});
    ADD_FAILURE() << "a second document was accepted";
  } catch (const UsageError& e) {
    EXPECT_EQ(std::string(e.what()), file + ": holds 2 YAML documents (separated by ---); a config is one");
  }
}

// Nesting past the parser's recursion limit was "YAML syntax error: bad
// file", yaml-cpp's text for it.
TEST(TrainConfig, NestingPastTheParsersLimitSaysSo) {
  const auto dir = laplex::testing::fresh_temp_dir("train_config_deep");
  const std::string file = (dir / "deep.yaml").string();
  std::ofstream(file) << "model: " << std::string(5000, '[') << std::string(5000, ']') << "\n";
  try {
    load_train_config(file, {});
    ADD_FAILURE() << "accepted";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find(file + ":1: nested too deeply for the YAML parser"),
              std::string::npos)
        << e.what();
  }
}

TEST(TrainConfig, ADirectoryGivenAsTheConfigFileIsAUsageError) {
  const std::string dir = ::testing::TempDir();
  try {
    load_train_config(dir, {});
    FAIL();
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("is a directory"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace laplex::train
