#pragma once
// A training task: what laplex-train optimises and how it scores a model.
// The trainer (trainer.cpp) owns the loop, the optimizer, the schedule,
// checkpoints and signals; a task owns its data, its loss and its
// evaluation, so a new kind of model (a classifier, a density model) adds a
// task and never touches the loop.
#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "apps/train/train_config.h"
#include "core/tensor.h"
#include "layers/module.h"

namespace laplex::train {

// One batch as the task hands it to its own loss: inputs on the device and,
// for supervised tasks, labels. `first` is the position of its first example
// in the epoch's order (what seeds per-example noise).
struct TaskBatch {
  Tensor inputs;
  Tensor labels;
  std::int64_t first = 0;
  std::int64_t size() const { return inputs.size(0); }
};

class Task {
 public:
  virtual ~Task() = default;
  // One log line about the data ("60000 train / 10000 test examples ...").
  virtual std::string describe_data() const = 0;
  // The shape of one input with a leading batch dimension of 1, as the model
  // sees it (for the layer summary).
  virtual Shape sample_shape() const = 0;
  // The shape of one example as the data holds it ((C, H, W) for images).
  virtual Shape example_shape() const = 0;
  virtual std::int64_t batches_per_epoch() const = 0;
  // Examples in the smallest training batch of an epoch (the last, short one).
  virtual std::int64_t smallest_training_batch() const = 0;
  // Throws UsageError when the model cannot be trained here: a kernel the
  // run's device lacks, or (fresh_run) an initialise_model that cannot run
  // on this data (e.g. too few training images for the order search).
  // Called with the other input checks, before the run_dir is made.
  virtual void check_model(Module& /*model*/, bool /*fresh_run*/) const {}
  // Called once before the first step of a fresh run, once the run's log
  // exists and the model sits on its device; not on resume, where the
  // checkpoint already holds what it did. Data-driven initialisation goes
  // here (e.g. laplex_ou's anchor order search, which takes most of a
  // minute at 3·10^6 dimensions): `note` logs a line at once, so a long
  // initialisation says what it is doing before it starts.
  virtual void initialise_model(Module& /*model*/,
                                const std::function<void(const std::string&)>& /*note*/) {}
  // Called with the shape of the model's output for sample_shape(), before
  // training: throws UsageError when the data cannot be scored on it (e.g.
  // labels past the last output), so the run stops before its first step
  // rather than at the step or evaluation that meets the label.
  virtual void check_model_output(const Shape& /*output*/) const {}
  // The batches of `epoch`, from batch `first_batch` on, in a fixed order
  // that depends only on (seed, epoch): a resumed run sees what an
  // uninterrupted one would.
  virtual void start_epoch(std::int64_t epoch, std::int64_t first_batch) = 0;
  virtual TaskBatch next_batch() = 0;
  // The training loss of a batch (a differentiable scalar).
  virtual Tensor loss(Module& model, const TaskBatch& batch, std::int64_t epoch) = 0;
  // Fields a train record adds to the mean training loss (e.g. bits per
  // dimension); none by default.
  virtual nlohmann::json train_fields(double /*mean_loss*/) const { return nlohmann::json::object(); }
  // Scores the model on the test split: at least {"loss": ...}.
  virtual nlohmann::json evaluate(Module& model) = 0;
  // One human line for an evaluation ("loss 0.3521 accuracy 0.8712").
  virtual std::string format_evaluation(const nlohmann::json& evaluation) const = 0;
};

// The task config.task names, with its data loaded for `device`.
std::unique_ptr<Task> make_task(const TrainConfig& config, Device device);

}  // namespace laplex::train
