// laplex-train --config FILE [--set key=value ...] [--resume DIR] [--device D]
#include <CLI/CLI.hpp>

#include "apps/cli.h"

#include <cstdio>

#include "apps/train/train_config.h"
#include "apps/train/trainer.h"

int main(int argc, char** argv) {
  CLI::App app{"laplex-train: train a model from a YAML config (see docs/configuration.md)",
               "laplex-train"};
  std::string config_path;
  std::vector<std::string> overrides;
  laplex::train::TrainOptions options;
  app.add_option("--config", config_path, "YAML config file")
      ->required()
      ->check(laplex::apps::non_empty());
  app.add_option("--set", overrides, "override a config key: key=value (repeatable)");
  app.add_option("--resume", options.resume, "checkpoint step directory or run directory")
      ->check(laplex::apps::non_empty());
  app.add_option("--device", options.device, "auto, cpu, cuda or cuda:N (overrides the config)")
      ->check(laplex::apps::non_empty());
  return laplex::apps::parse_and_run(app, argc, argv, [&] {
    const auto config = laplex::train::load_train_config(config_path, overrides);
    const auto summary = laplex::train::train(config, options);
    std::printf("steps %lld%s%s%s\n", static_cast<long long>(summary.steps),
                summary.test_line.empty() ? "" : " ", summary.test_line.c_str(),
                summary.stopped_by_signal ? " (stopped by signal, checkpoint written)" : "");
    return 0;
  });
}
