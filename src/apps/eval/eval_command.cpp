#include "apps/eval/eval_command.h"

#include <cstdio>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>

#include "apps/eval/evaluation.h"
#include "apps/eval/explain_density.h"
#include "apps/eval/explain_laplex.h"
#include "apps/eval/model_outputs.h"
#include "apps/eval/picture_staging.h"
#include "apps/train/checkpoint.h"
#include "apps/train/classification_data.h"
#include "apps/train/model_builder.h"
#include "apps/train/task.h"
#include "apps/train/train_config.h"
#include "config/yaml_aliases.h"
#include "layers/summary.h"

namespace laplex::eval {

namespace {

struct LoadedCheckpoint {
  std::string dir;
  train::Checkpoint checkpoint;
  YAML::Node config;  // the embedded training config
  std::string config_text;  // its text: a parse of it keeps line marks, a clone does not
  std::string source; // how messages name it
};

LoadedCheckpoint load(const std::string& path) {
  LoadedCheckpoint c;
  c.dir = train::resolve_checkpoint_dir(path);
  c.checkpoint = train::read_checkpoint(c.dir, false);
  c.source = c.dir + "/model.safetensors[config]";
  const auto text = c.checkpoint.model_metadata.find("config");
  if (text == c.checkpoint.model_metadata.end())
    throw UsageError(c.dir + "/model.safetensors: no 'config' in its metadata (not a laplex checkpoint)");
  try {
    config::check_yaml_aliases(text->second, c.source);
    c.config = YAML::Load(text->second);
    c.config_text = text->second;
  } catch (const YAML::Exception&) {
    throw UsageError(c.source + ": the embedded config is not valid YAML");
  }
  if (!c.config.IsMap() || !c.config["model"])
    throw UsageError(c.source + ": the embedded config has no model section");
  return c;
}

// The embedded config's task, read without the rest of the config (the
// --inputs path needs no data section).
std::string task_of(const LoadedCheckpoint& c) {
  const YAML::Node task = c.config["task"];
  if (!task) return "classification";
  const std::string name = task.IsScalar() ? task.Scalar() : "";
  if (name != "classification" && name != "covariance")
    throw UsageError(c.source + ": task: expected classification or covariance");
  return name;
}

std::shared_ptr<Module> model_of(const LoadedCheckpoint& c) {
  const std::uint64_t seed = c.config["seed"] ? c.config["seed"].as<std::uint64_t>(0) : 0;
  auto model = train::build_model_from_yaml(c.config["model"], seed, c.source);
  try {
    model->load_state_dict(c.checkpoint.model, "model");
  } catch (const UsageError& e) {
    throw UsageError(c.dir + "/model.safetensors: " + e.what());
  }
  return model;
}

void print(const nlohmann::json& out, bool json, const std::string& text) {
  if (json)
    std::printf("%s\n", out.dump().c_str());
  else
    std::printf("%s", text.c_str());
}

// The model's layer table on one example of the data: a data folder (the
// config's or --data's) whose examples the model does not take is a
// UsageError naming the folder, not an error deep inside a layer.
std::vector<SummaryRow> checked_summary(Module& model, const Shape& sample,
                                        const train::DataConfig& data) {
  try {
    return summarize(model, sample);
  } catch (const UsageError&) {
    throw;
  } catch (const Error& e) {
    throw UsageError(data.root + ": the model does not take these examples (batches of " +
                     shape_str(sample) + "): " + e.what());
  }
}

// --outputs must not replace what this command reads or what a run needs:
// the --inputs file, a file of the checkpoint, or its run's checkpoints/
// folder (both were overwritten, with exit 0).
void check_outputs_path(const std::string& outputs, const std::string& inputs,
                        const std::string& checkpoint_dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::path out = fs::weakly_canonical(outputs, ec);
  if (ec) return;  // the writer reports a path it cannot use
  if (out == fs::weakly_canonical(inputs, ec))
    throw UsageError("--outputs " + outputs + ": is the --inputs file; write the outputs elsewhere");
  const fs::path step = fs::weakly_canonical(checkpoint_dir, ec);
  const fs::path folder = out.parent_path();
  if (folder == step || (step.parent_path().filename() == "checkpoints" && folder == step.parent_path()))
    throw UsageError("--outputs " + outputs + ": is inside the checkpoint's folder " +
                     folder.string() + "; write the outputs elsewhere");
}

// The checkpoint config's `device` (the default of --device), read alone:
// --inputs needs no other section of it. The trainer checked the key.
std::string configured_device(const LoadedCheckpoint& c) {
  const YAML::Node device = c.config["device"];
  return device && device.IsScalar() ? device.as<std::string>() : "auto";
}

nlohmann::json layer_table(const std::vector<SummaryRow>& rows) {
  nlohmann::json layers = nlohmann::json::array();
  for (const auto& r : rows)
    layers.push_back({{"name", r.name}, {"type", r.type}, {"output", r.output_shape},
                      {"parameters", r.parameters}});
  return layers;
}

}  // namespace

int run_eval(const EvalOptions& options) {
  if (options.inputs.empty() != options.outputs.empty())
    throw UsageError(std::string(options.inputs.empty() ? "--outputs" : "--inputs") +
                     ": --inputs and --outputs go together");
  const LoadedCheckpoint c = load(options.checkpoint);
  const std::string task_name = task_of(c);
  auto model = model_of(c);

  // With --explain as well, the outputs are written after the pictures are
  // made and before they are moved in: a failure in either writes neither.
  auto write_outputs = [&] {
    // Only the model section is needed: no data set is read.
    const Device device = usable_device(options.device.empty() ? configured_device(c) : options.device);
    model->to(device);
    const std::int64_t rows =
        write_model_outputs(*model, task_name, options.inputs, options.outputs, 256, device);
    print({{"checkpoint", c.dir}, {"inputs", options.inputs}, {"outputs", options.outputs},
           {"rows", rows}},
          options.json, "wrote " + std::to_string(rows) + " rows to " + options.outputs + "\n");
  };
  if (!options.inputs.empty()) {
    check_outputs_path(options.outputs, options.inputs, c.dir);
    if (options.explain_dir.empty()) {
      write_outputs();
      return 0;
    }
  }
  std::unique_ptr<PictureStaging> staging;
  if (!options.explain_dir.empty()) staging = std::make_unique<PictureStaging>(options.explain_dir);

  // A fresh parse rather than YAML::Clone, which drops the line marks every
  // message about the config cites.
  YAML::Node document = YAML::Load(c.config_text);
  config::ConfigOverrides overrides;
  if (!options.data_root.empty()) {
    document["data"]["root"] = options.data_root;
    overrides["data.root"] = "--data " + options.data_root;
  }
  const train::TrainConfig config = train::parse_train_config(document, c.source, overrides);
  if (!options.data_root.empty() && config.data.dataset == "synthetic")
    throw UsageError("--data " + options.data_root +
                     ": the checkpoint's data.dataset is synthetic (generated in memory), which "
                     "reads no folder");
  const Device device = usable_device(options.device.empty() ? config.device : options.device);
  const std::string header = "checkpoint " + c.dir + "\n";
  auto finish_pictures = [&](const std::vector<std::string>& staged) {
    staging->check_targets(staged);
    if (!options.inputs.empty()) write_outputs();
    const std::vector<std::string> files = staging->commit(staged);
    std::string text;
    for (const auto& f : files) text += f + "\n";
    if (files.empty()) text = "no picture: the model has no LAPLEX layer that sees an image\n";
    print({{"checkpoint", c.dir}, {"pictures", files}}, options.json, text);
  };

  if (task_name == "covariance") {
    const auto task = train::make_task(config, device);
    const auto rows = checked_summary(*model, task->sample_shape(), config.data);
    if (!options.explain_dir.empty()) {
      model->to(Device::cpu());
      finish_pictures(explain_density_model(*model, task->example_shape(), config.seed,
                                            staging->folder()));
      return 0;
    }
    model->to(device);
    nlohmann::json out = task->evaluate(*model);
    out["parameters"] = model->parameter_count();
    out["checkpoint"] = c.dir;
    out["layers"] = layer_table(rows);
    print(out, options.json,
          header + format_summary(rows) + task->format_evaluation(out) + "  parameters " +
              std::to_string(model->parameter_count()) + "\n");
    return 0;
  }

  // Classification: the test split is read once, for the sample shape and the report.
  const auto data =
      train::load_classification_data(config.data, config.seed, train::SplitsToRead::test_only);
  Shape sample = data.test.inputs.shape();
  sample[0] = 1;
  std::vector<SummaryRow> rows = checked_summary(*model, sample, config.data);
  if (!options.explain_dir.empty()) {
    model->to(Device::cpu());
    finish_pictures(explain_laplex_layers(*model, sample, staging->folder()));
    return 0;
  }
  model->to(device);
  // The confusion matrix is classes x classes: labels past the model's
  // logits (a foreign --data) stop here, before it is sized from them.
  const std::int64_t logits = rows.empty() ? 0 : rows.back().output_shape.back();
  if (data.classes > logits)
    throw UsageError(config.data.root + ": labels up to " + std::to_string(data.classes - 1) +
                     ", the model has " + std::to_string(logits) + " logits");
  // One row and column per logit: a test split without the last classes
  // still gets the matrix of the model's classes.
  const auto report = evaluate_classifier(*model, data.test, logits, config.data.eval_batch_size,
                                          device);
  nlohmann::json out = to_json(report);
  out["checkpoint"] = c.dir;
  out["layers"] = layer_table(rows);
  print(out, options.json, header + format_summary(rows) + to_text(report));
  return 0;
}

}  // namespace laplex::eval
