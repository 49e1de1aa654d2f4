// Every config under configs/ is one a user runs as is: it must parse, and
// its model (and the optimizer's groups over it) must build, so a renamed
// key or a new limit cannot leave a shipped config broken until someone
// trains with it.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "apps/train/model_builder.h"
#include "apps/train/train_config.h"
#include "core/error.h"

namespace laplex::train {
namespace {

namespace fs = std::filesystem;

std::vector<fs::path> shipped_configs() {
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(fs::path(LAPLEX_SOURCE_DIR) / "configs"))
    if (entry.path().extension() == ".yaml") files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  return files;
}

TEST(ShippedConfigs, ParseAndBuildTheirModelsAndOptimizers) {
  const std::vector<fs::path> files = shipped_configs();
  ASSERT_GE(files.size(), 10u);
  for (const fs::path& file : files) {
    SCOPED_TRACE(file.filename().string());
    const TrainConfig config = parse_train_config(YAML::LoadFile(file.string()), file.string());
    const std::shared_ptr<Module> model = build_model(config);
    ASSERT_NE(model, nullptr);
    EXPECT_NE(build_optimizer(config, *model), nullptr);
  }
}

// A group that matches nothing is refused with the model's own parameter
// names (the hint used to be a fixed "model.0.weight", wrong for laplex_ou).
TEST(ShippedConfigs, AnOptimizerGroupMatchingNothingQuotesTheModelsNames) {
  const fs::path file = fs::path(LAPLEX_SOURCE_DIR) / "configs" / "fashion_mnist_cov_laplex.yaml";
  YAML::Node document = YAML::LoadFile(file.string());
  document["optimizer"]["groups"] = YAML::Load("[{name: nothing, patterns: [model.0.t]}]");
  const TrainConfig config = parse_train_config(document, file.string());
  const std::shared_ptr<Module> model = build_model(config);
  try {
    build_optimizer(config, *model);
    ADD_FAILURE() << "accepted";
  } catch (const UsageError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("group 'nothing' matches no parameter (this model's are model."),
              std::string::npos)
        << what;
    EXPECT_EQ(what.find("model.0.weight"), std::string::npos) << what;
  }
}

}  // namespace
}  // namespace laplex::train
