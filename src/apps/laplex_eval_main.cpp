// laplex-eval --checkpoint DIR [--json] [--device D]: evaluates a training
// checkpoint (a step directory, or a run directory meaning its latest) on
// the test split of the data its embedded config names.
#include <CLI/CLI.hpp>

#include "apps/cli.h"

#include <cstdio>

#include "apps/eval/evaluation.h"
#include "apps/train/checkpoint.h"
#include "apps/train/classification_data.h"
#include "apps/train/model_builder.h"
#include "apps/train/train_config.h"
#include "core/error.h"
#include "layers/summary.h"

namespace {

int evaluate(const std::string& checkpoint_path, const std::string& device_name, bool json) {
  using namespace laplex;
  const std::string dir = train::resolve_checkpoint_dir(checkpoint_path);
  const auto checkpoint = train::read_checkpoint(dir, false);
  const auto config_text = checkpoint.model_metadata.find("config");
  if (config_text == checkpoint.model_metadata.end())
    throw UsageError(dir + "/model.safetensors: no 'config' in its metadata (not a laplex checkpoint)");
  YAML::Node document;
  try {
    document = YAML::Load(config_text->second);
  } catch (const YAML::Exception&) {
    throw UsageError(dir + "/model.safetensors: the embedded config is not valid YAML");
  }
  const auto config = train::parse_train_config(document, dir + "/model.safetensors[config]");
  auto model = train::build_model(config);
  model->load_state_dict(checkpoint.model, "model");
  const Device device = Device::parse(device_name.empty() ? config.device : device_name);
  model->to(device);
  const auto data = train::load_classification_data(config.data, config.seed);
  Shape sample = data.test.inputs.shape();
  sample[0] = 1;
  const auto rows = summarize(*model, sample);
  const auto report =
      eval::evaluate_classifier(*model, data.test, data.classes, config.data.eval_batch_size, device);
  if (json) {
    auto out = eval::to_json(report);
    out["checkpoint"] = dir;
    nlohmann::json layers = nlohmann::json::array();
    for (const auto& r : rows)
      layers.push_back({{"name", r.name}, {"type", r.type}, {"output", r.output_shape},
                        {"parameters", r.parameters}});
    out["layers"] = layers;
    std::printf("%s\n", out.dump().c_str());
  } else {
    std::printf("checkpoint %s\n%s%s", dir.c_str(), format_summary(rows).c_str(),
                eval::to_text(report).c_str());
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"laplex-eval: evaluate a laplex checkpoint", "laplex-eval"};
  std::string checkpoint, device;
  bool json = false;
  app.add_option("--checkpoint", checkpoint, "checkpoint step directory or run directory")->required();
  app.add_option("--device", device, "auto, cpu, cuda or cuda:N (default: the config's)");
  app.add_flag("--json", json, "one JSON object instead of text");
  return laplex::apps::parse_and_run(app, argc, argv, [&] { return evaluate(checkpoint, device, json); });
}
