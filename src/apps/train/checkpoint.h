#pragma once
// Checkpoint directories: <run_dir>/checkpoints/step-NNNNNNNN/ holding
// model.safetensors (weights named by module path; metadata: config YAML,
// step, epoch, format version) and train_state.safetensors (optimizer,
// schedule step, RNG and loader position). A checkpoint is written under a
// temporary name, synced, then renamed; the `latest` pointer is replaced
// last. A crash at any point leaves either the old or the new checkpoint,
// never a half one that looks complete.
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "core/tensor.h"

namespace laplex::train {

inline constexpr const char* kCheckpointFormatVersion = "1";

struct Checkpoint {
  std::map<std::string, Tensor> model;
  std::map<std::string, std::string> model_metadata;
  std::map<std::string, Tensor> train_state;
  std::map<std::string, std::string> train_metadata;
};

// Writes the checkpoint for `step`, updates `latest`, then keeps only the
// newest `keep_last` step directories up to `step` (0 keeps all). Returns
// its directory.
std::string write_checkpoint(const std::string& run_dir, std::int64_t step,
                             const Checkpoint& checkpoint, int keep_last);

// The step directories of a run, (step, path) by ascending step; none when
// it has no checkpoints folder.
std::vector<std::pair<std::int64_t, std::string>> checkpoint_steps(const std::string& run_dir);

// Removes the temporaries (step-N.tmp-PID, latest.tmp-PID) that a run killed
// while writing a checkpoint leaves behind.
void remove_stale_temporaries(const std::string& run_dir);

// Throws UsageError when `run_dir` cannot take this run's checkpoints: its
// checkpoints/ or checkpoints/latest is of the wrong kind, its train.log or
// metrics.jsonl is a directory, or, for a fresh
// run (not a resume), it already holds checkpoints of another run (pruning
// keeps the highest steps, so the new run's would be removed and `latest`
// would name a removed folder).
void check_run_dir(const std::string& run_dir, bool fresh);

// A step directory, or a run directory meaning the step that its
// checkpoints/latest names. UsageError when neither exists.
std::string resolve_checkpoint_dir(const std::string& path);

// Reads both files (train_state only when `with_train_state`). Missing or
// damaged files, and tensors holding a NaN or an infinity, are UsageErrors
// naming the file.
Checkpoint read_checkpoint(const std::string& step_dir, bool with_train_state);

}  // namespace laplex::train
