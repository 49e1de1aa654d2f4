#include "apps/train/trainer.h"

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <new>

#include "apps/train/checkpoint.h"
#include "apps/train/metrics.h"
#include "apps/train/model_builder.h"
#include "apps/train/optimizer_state.h"
#include "apps/train/progress.h"
#include "apps/train/run_dir_lock.h"
#include "apps/train/stop_signal.h"
#include "apps/train/task.h"
#include "core/autograd/grad_mode.h"
#include "core/finite_check.h"
#include "core/ops/elementwise.h"
#include "layers/norm/batchnorm.h"
#include "layers/summary.h"
#include "optim/clip.h"

namespace laplex::train {

namespace {

struct Position {
  std::int64_t step = 0, epoch = 0, batch = 0;  // the next batch to run
};

// The log is flushed line by line: buffered, a killed run's train.log was
// empty after dozens of checkpoints. A line the file cannot take (a full
// disk) is reported once, in the tool's own one-line form; the console
// keeps every line.
std::shared_ptr<spdlog::logger> make_logger(const std::string& run_dir) {
  const std::string path = run_dir + "/train.log";
  auto console = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
  auto file = std::make_shared<spdlog::sinks::basic_file_sink_mt>(path);
  auto logger = std::make_shared<spdlog::logger>("laplex-train", spdlog::sinks_init_list{console, file});
  logger->set_pattern("[%Y-%m-%d %H:%M:%S] %v");
  logger->flush_on(spdlog::level::trace);
  auto reported = std::make_shared<std::atomic<bool>>(false);
  logger->set_error_handler([path, reported](const std::string& message) {
    if (!reported->exchange(true))
      std::fprintf(stderr, "laplex-train: warning: %s: write failed (%s); the log goes on here only\n",
                   path.c_str(), message.c_str());
  });
  return logger;
}

// A run whose loss is NaN or infinite has diverged (or started from values
// that overflow): it stops with an error before its next checkpoint, so the
// checkpoints on disk stay the last good ones and no score of NaN is
// reported as a result.
constexpr const char* kDiverged =
    ": the run diverged (lower optimizer.lr, or set optimizer.clip_grad_norm); the checkpoints "
    "written before it are kept";

void stop_if_diverged(double loss, const std::string& what, std::int64_t step) {
  if (std::isfinite(loss)) return;
  throw Error("step " + std::to_string(step) + ": the " + what + " is " +
              (std::isnan(loss) ? "NaN" : "infinite") + kDiverged);
}

// The path of the first 1-D batch norm in the module tree ("model.3"), or
// empty: in training it normalises over the batch, so it cannot take a
// batch of one example.
std::string first_batchnorm_1d(const Module& module, const std::string& path) {
  if (const auto* norm = dynamic_cast<const BatchNorm*>(&module); norm && norm->options().dims == 1)
    return path;
  for (const auto& [name, child] : module.children())
    if (std::string found = first_batchnorm_1d(*child, path + "." + name); !found.empty())
      return found;
  return "";
}

void stop_if_parameters_diverged(const Module& model, std::int64_t step) {
  for (const auto& [name, parameter] : model.named_parameters("model"))
    if (first_non_finite(parameter) >= 0)
      throw Error("step " + std::to_string(step) + ": parameter " + name +
                  " holds a NaN or an infinity" + kDiverged);
}

Checkpoint make_checkpoint(const TrainConfig& config, Module& model, optim::Optimizer& optimizer,
                           const Position& next) {
  Checkpoint c;
  c.model = model.state_dict("model");
  c.model_metadata["config"] = to_yaml_text(config.yaml);
  c.model_metadata["epoch"] = std::to_string(next.epoch);
  for (auto& [name, t] : optimizer.state_dict()) c.train_state["optimizer." + name] = t;
  c.train_metadata["optimizer.type"] = config.optimizer.type;
  c.train_metadata["optimizer.parameters"] = optimizer_order(optimizer);
  c.train_metadata["data.batch_size"] = std::to_string(config.data.batch_size);
  c.train_state["trainer.position"] =
      Tensor::from_vector<std::int64_t>({next.step, next.epoch, next.batch}, {3});
  return c;
}

}  // namespace

TrainSummary train(const TrainConfig& config, const TrainOptions& options) {
  const Device device = usable_device(options.device.empty() ? config.device : options.device);
  std::unique_ptr<Task> task;
  try {
    task = make_task(config, device);
  } catch (const std::bad_alloc&) {
    throw UsageError(config.file + ": data: the data set does not fit in this machine's memory");
  }
  std::shared_ptr<Module> model = build_model(config);
  if (model->parameters().empty())
    throw UsageError(config.file + ": model: it has no parameters to train (layers such as relu, "
                     "flatten or an empty list only)");
  // The summary's forward (on the CPU, where the model is built) is its
  // first look at the data's shape: a model built for other sizes, or with
  // fewer outputs than the labels need, fails here as a config error.
  std::vector<SummaryRow> summary_rows;
  try {
    summary_rows = summarize(*model, task->sample_shape());
  } catch (const UsageError&) {
    throw;
  } catch (const Error& e) {
    throw UsageError(config.file + ": the model does not take the data's examples (batches of " +
                     shape_str(task->sample_shape()) + "): " + e.what());
  }
  if (!summary_rows.empty()) task->check_model_output(summary_rows.back().output_shape);
  // A short last batch of one example stopped the run there, an epoch in.
  if (task->smallest_training_batch() == 1)
    if (const std::string norm = first_batchnorm_1d(*model, "model"); !norm.empty())
      throw UsageError(config.file + ": data.batch_size " + std::to_string(config.data.batch_size) +
                       ": an epoch's last batch holds 1 example, and the batchnorm " + norm +
                       " needs at least 2 in training: choose another batch_size");
  // Every check of the config, the data, the model and the checkpoint
  // resumed comes before the run_dir is made or written: a run that fails
  // on its input leaves no run_dir or log behind, and says so in one line.
  check_run_dir(config.run_dir, options.resume.empty());
  std::vector<std::string> notes;  // logged once the run's log exists

  Position position;
  Checkpoint resumed;
  std::string resumed_dir;
  if (!options.resume.empty()) {
    resumed_dir = resolve_checkpoint_dir(options.resume);
    const std::string& dir = resumed_dir;
    resumed = read_checkpoint(dir, true);
    try {
      model->load_state_dict(resumed.model, "model");
    } catch (const UsageError& e) {
      throw UsageError(dir + "/model.safetensors: " + e.what());
    }
    const auto it = resumed.train_state.find("trainer.position");
    if (it == resumed.train_state.end() || it->second.numel() != 3)
      throw UsageError(dir + "/train_state.safetensors: no trainer.position (not a training checkpoint)");
    if (it->second.dtype() != DType::i64)
      throw UsageError(dir + "/train_state.safetensors: trainer.position is " +
                       dtype_name(it->second.dtype()) + ", expected int64 (step, epoch, batch)");
    const auto p = it->second.to_vector<std::int64_t>();
    if (p[0] < 0 || p[1] < 0 || p[2] < 0 || p[2] > p[0])
      throw UsageError(dir + "/train_state.safetensors: trainer.position (step " +
                       std::to_string(p[0]) + ", epoch " + std::to_string(p[1]) + ", batch " +
                       std::to_string(p[2]) + ") is not a position of a run");
    position = {p[0], p[1], p[2]};
    // The position counts batches of the run's size: another size would
    // see some examples of the epoch twice and others not at all.
    const auto saved_batch = resumed.train_metadata.find("data.batch_size");
    if (saved_batch != resumed.train_metadata.end() &&
        saved_batch->second != std::to_string(config.data.batch_size))
      throw UsageError(dir + "/train_state.safetensors: the run used data.batch_size " +
                       saved_batch->second + ", this config " +
                       std::to_string(config.data.batch_size) +
                       ": resume with the same batch size (or start a new run)");
    const auto run_steps = checkpoint_steps(config.run_dir);
    bool resumed_is_in_run_dir = false;
    for (const auto& [step, path] : run_steps) {
      if (step > position.step)
        throw UsageError("run_dir " + config.run_dir + " holds a later checkpoint (" + path +
                         ") than the one resumed (step " + std::to_string(position.step) +
                         "): resume its latest, or give the branch another run_dir");
      std::error_code ec;
      resumed_is_in_run_dir = resumed_is_in_run_dir || std::filesystem::equivalent(path, dir, ec);
    }
    // Pruning keeps the newest checkpoints of run_dir: continuing another
    // run's checkpoint there would delete that run's own.
    if (!run_steps.empty() && !resumed_is_in_run_dir)
      throw UsageError("run_dir " + config.run_dir + " holds the checkpoints of another run (up to " +
                       run_steps.back().second + "): resume " + dir +
                       " into its own run_dir or a new one (--set run_dir=...)");
    notes.push_back("resuming from " + dir + " at step " + std::to_string(position.step) +
                    " (epoch " + std::to_string(position.epoch) + ", batch " +
                    std::to_string(position.batch) + ")");
  }
  task->check_model(*model, options.resume.empty());
  model->to(device);
  notes.push_back("model on " + device.str() + ":\n" + format_summary(summary_rows));

  auto optimizer = build_optimizer(config, *model);
  if (!resumed.train_state.empty()) {
    const std::string file = resumed_dir + "/train_state.safetensors";
    try {
      optimizer->load_state_dict(optimizer_state_for(resumed, config, *optimizer, file));
    } catch (const UsageError& e) {
      const std::string message = e.what();
      throw message.rfind(file, 0) == 0 ? e : UsageError(file + ": " + message);
    }
  }

  const std::int64_t steps_per_epoch = task->batches_per_epoch();
  if (steps_per_epoch < 1)
    throw UsageError(config.file + ": data: the training split has no examples (" +
                     task->describe_data() + ")");
  if (!resumed_dir.empty() && (position.batch > steps_per_epoch ||
                               position.step != position.epoch * steps_per_epoch + position.batch))
    throw UsageError(resumed_dir + "/train_state.safetensors: its position (step " +
                     std::to_string(position.step) + ", epoch " + std::to_string(position.epoch) +
                     ", batch " + std::to_string(position.batch) + ") is not one of this run's, " +
                     "which has " + std::to_string(steps_per_epoch) +
                     " batches an epoch (were the data or batch_size changed?)");
  std::int64_t total_steps = 0;
  if (__builtin_mul_overflow(steps_per_epoch, config.loop.epochs, &total_steps))
    total_steps = std::numeric_limits<std::int64_t>::max();
  if (config.loop.max_steps > 0) total_steps = std::min(total_steps, config.loop.max_steps);
  optim::Schedule schedule = config.schedule;
  if (schedule.total_steps <= 0)
    schedule.total_steps = std::max<std::int64_t>(1, total_steps - schedule.warmup_steps);
  schedule.validate();

  {
    std::error_code ec;
    std::filesystem::create_directories(config.run_dir, ec);
    if (ec || !std::filesystem::is_directory(config.run_dir))
      throw UsageError(config.file + ": run_dir " + config.run_dir +
                       ": cannot create the run directory" + (ec ? ": " + ec.message() : ""));
  }
  // Before anything in run_dir is touched: a second trainer would delete
  // this one's checkpoint in progress as a stale temporary.
  const RunDirLock lock(config.run_dir);
  remove_stale_temporaries(config.run_dir);
  auto log = make_logger(config.run_dir);
  log->info("task {}; data: {}", config.task, task->describe_data());
  for (const std::string& note : notes) log->info("{}", note);
  if (options.resume.empty())
    task->initialise_model(*model, [&](const std::string& line) { log->info("{}", line); });

  // A resumed run logs again what came after its checkpoint: train records
  // past its step, and the test record of its step when the end-of-epoch
  // evaluation is still to run (a checkpoint_every save just before it).
  MetricsWriter::KeepRecord keep;
  if (!resumed_dir.empty()) {
    const std::int64_t step = position.step;
    const bool evaluation_pending = position.batch >= steps_per_epoch;
    keep = [step, evaluation_pending](const nlohmann::json& record) {
      const auto at = record.find("step");
      if (at == record.end() || !at->is_number_integer()) return true;
      const std::int64_t logged = at->get<std::int64_t>();
      const auto split = record.find("split");
      const bool test = split != record.end() && *split == "test";
      return logged < step || (logged == step && !(test && evaluation_pending));
    };
  }
  MetricsWriter metrics(config.run_dir + "/metrics.jsonl", keep);
  install_stop_handlers();
  Progress progress(total_steps, config.loop.log_every, Progress::stderr_is_terminal());
  TrainSummary summary;
  Position saved{-1, -1, -1};  // the position the newest checkpoint holds
  Tensor running_loss;
  std::int64_t running_count = 0;
  auto save = [&](const Position& next) {
    if (next.step == saved.step && next.epoch == saved.epoch && next.batch == saved.batch) return;
    if (running_count > 0) stop_if_diverged(running_loss.item(), "training loss", next.step);
    progress.pause();
    saved = next;
    summary.last_checkpoint = write_checkpoint(config.run_dir, next.step,
                                               make_checkpoint(config, *model, *optimizer, next),
                                               config.loop.keep_last);
    log->info("checkpoint {}", summary.last_checkpoint);
    progress.resume();
  };

  model->train();
  while (position.epoch < config.loop.epochs && position.step < total_steps) {
    task->start_epoch(position.epoch, position.batch);
    while (position.batch < steps_per_epoch && position.step < total_steps) {
      if (stop_requested()) {
        progress.finish();
        log->info("stop requested: checkpointing at step {}", position.step);
        save(position);
        summary.steps = position.step;
        summary.stopped_by_signal = true;
        return summary;
      }
      const TaskBatch batch = task->next_batch();
      optimizer->set_lr_factor(schedule.factor(position.step));
      optimizer->zero_grad();
      Tensor loss;
      try {
        loss = task->loss(*model, batch, position.epoch);
      } catch (const UsageError&) {
        throw;
      } catch (const Error&) {
        // Ops that refuse non-finite inputs (LAPLEX anchors) fail here when
        // the last update overflowed: that is the divergence, say so.
        stop_if_parameters_diverged(*model, position.step);
        throw;
      }
      loss.backward();
      if (config.optimizer.clip_grad_norm > 0)
        optim::clip_grad_norm(model->parameters(), config.optimizer.clip_grad_norm);
      optimizer->step();
      ++position.step;
      ++position.batch;
      {
        NoGradGuard no_grad;
        running_loss = running_loss.defined() ? add(running_loss, loss.detach()) : loss.detach();
      }
      ++running_count;
      if (position.step % config.loop.log_every == 0 || position.step == total_steps) {
        const double mean_loss = running_loss.item() / static_cast<double>(running_count);
        nlohmann::json record = {{"step", position.step},
                                 {"epoch", position.epoch},
                                 {"split", "train"},
                                 {"loss", mean_loss}};
        record.update(task->train_fields(mean_loss));
        record["lr_factor"] = optimizer->lr_factor();
        record["items_per_s"] = progress.items_per_second();
        metrics.write(record);
        stop_if_diverged(mean_loss, "training loss", position.step);
        progress.update(position.step, position.epoch, mean_loss, batch.size());
        running_loss = Tensor();
        running_count = 0;
      } else {
        progress.update(position.step, position.epoch, NAN, batch.size());
      }
      if (config.loop.checkpoint_every > 0 && position.step % config.loop.checkpoint_every == 0)
        save(position);
    }
    if (position.batch >= steps_per_epoch) {
      // End of an epoch: evaluate, then checkpoint the start of the next one.
      progress.finish();
      progress.pause();
      const nlohmann::json evaluation = task->evaluate(*model);
      nlohmann::json record = {{"step", position.step}, {"epoch", position.epoch}, {"split", "test"}};
      record.update(evaluation);
      metrics.write(record);
      stop_if_diverged(evaluation.value("loss", 0.0), "test loss", position.step);
      summary.test = evaluation;
      summary.test_line = task->format_evaluation(evaluation);
      log->info("epoch {} step {}: {} ({:.0f} examples/s)", position.epoch, position.step,
                summary.test_line, progress.items_per_second());
      ++position.epoch;
      position.batch = 0;
      if (config.loop.checkpoint_every == 0) save(position);
      progress.resume();
    }
  }
  progress.finish();
  save(position);
  summary.steps = position.step;
  return summary;
}

}  // namespace laplex::train
