// laplex-eval --checkpoint DIR [--json] [--device D] [--data ROOT]
//             [--inputs X.npy --outputs Y.npy] [--explain OUT_DIR]
#include <CLI/CLI.hpp>

#include "apps/cli.h"
#include "apps/eval/eval_command.h"

int main(int argc, char** argv) {
  CLI::App app{"laplex-eval: evaluate a laplex checkpoint", "laplex-eval"};
  laplex::eval::EvalOptions o;
  app.add_option("--checkpoint", o.checkpoint, "checkpoint step directory or run directory")
      ->required()
      ->check(laplex::apps::non_empty());
  app.add_option("--device", o.device, "auto, cpu, cuda or cuda:N (default: the config's)")
      ->check(laplex::apps::non_empty());
  app.add_option("--data", o.data_root, "data folder instead of the config's data.root")
      ->check(laplex::apps::non_empty());
  app.add_option("--inputs", o.inputs, "run the model on this .npy array (float32 rows)")
      ->check(laplex::apps::non_empty());
  app.add_option("--outputs", o.outputs, "where --inputs writes the model's outputs (.npy)")
      ->check(laplex::apps::non_empty());
  app.add_option("--explain", o.explain_dir, "write pictures of the learned model into this folder")
      ->check(laplex::apps::non_empty());
  app.add_flag("--json", o.json, "one JSON object instead of text");
  return laplex::apps::parse_and_run(app, argc, argv, [&] { return laplex::eval::run_eval(o); });
}
