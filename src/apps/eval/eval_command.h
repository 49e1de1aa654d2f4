#pragma once
// What laplex-eval does with a checkpoint (a step directory, or a run
// directory meaning its latest step):
// - default: score the model on the test split of the data its embedded
//   config names (classification: accuracy, per-class accuracy, confusion
//   matrix; covariance: NLL and bits per dimension), as text or JSON;
// - --inputs X.npy --outputs Y.npy: run the model on an array (model_outputs.h);
// - --explain DIR: write pictures of what the model learned (explain_*.h).
#include <cstdint>
#include <string>

namespace laplex::eval {

struct EvalOptions {
  std::string checkpoint;
  std::string device;     // empty: the config's
  std::string data_root;  // empty: the config's data.root
  std::string inputs, outputs, explain_dir;
  bool json = false;
};

int run_eval(const EvalOptions& options);

}  // namespace laplex::eval
