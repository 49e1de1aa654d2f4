// laplex-train end to end, as a user runs it (label e2e): small generated
// data, real processes, real files.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "apps/train/checkpoint.h"
#include "core/safetensors.h"
#include "data/npy.h"
#include "helpers/process.h"
#include "helpers/temp_dir.h"

extern char** environ;

namespace laplex {
namespace {

namespace fs = std::filesystem;

const std::string kTrain = testing::program_path("laplex-train");

fs::path fresh_dir(const std::string& name) { return testing::fresh_temp_dir("e2e_" + name); }

std::string write_config(const fs::path& dir, const std::string& extra = "") {
  const fs::path path = dir / "config.yaml";
  std::ofstream(path) << "seed: 1\ndevice: cpu\nrun_dir: " << (dir / "run").string() << "\n"
                      << R"(data:
  dataset: synthetic
  synthetic_train: 1024
  synthetic_test: 512
  synthetic_features: 16
  synthetic_classes: 4
  batch_size: 32
model:
  type: sequential
  layers:
    - {type: linear, in: 16, out: 32}
    - {type: relu}
    - {type: linear, in: 32, out: 4}
optimizer: {type: adam, lr: 0.01}
schedule: {kind: cosine, warmup_steps: 5}
train: {epochs: 3, log_every: 8, keep_last: 0}
)" << extra;
  return path.string();
}

using Result = testing::CommandResult;

Result run(const std::string& args) { return testing::run_command(kTrain + " " + args); }

double final_accuracy(const fs::path& run_dir) {
  std::ifstream in(run_dir / "metrics.jsonl");
  std::string line, last_test;
  while (std::getline(in, line))
    if (line.find("\"split\":\"test\"") != std::string::npos) last_test = line;
  const auto at = last_test.find("\"accuracy\":");
  return at == std::string::npos ? -1 : std::stod(last_test.substr(at + 11));
}

TEST(TrainE2E, BeatsChanceByAWideMargin) {
  const fs::path dir = fresh_dir("chance");
  const Result r = run("--config " + write_config(dir));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_GT(final_accuracy(dir / "run"), 0.6) << r.output;  // chance is 0.25
  EXPECT_TRUE(fs::exists(dir / "run/checkpoints/latest"));
}

// Trains the config's 96 steps, resumes its step-32 checkpoint into
// another run_dir with `resume_args` added, and expects the same weights at
// step 96, bit for bit.
void expect_resume_from_step_32_equals_the_whole_run(const std::string& name,
                                                      const std::string& resume_args) {
  const fs::path dir = fresh_dir(name);
  const std::string config = write_config(dir);
  ASSERT_EQ(run("--config " + config).exit_code, 0);
  const fs::path resumed = dir / "resumed";
  const Result r = run("--config " + config + " --set run_dir=" + resumed.string() + resume_args +
                       " --resume " + (dir / "run/checkpoints/step-00000032").string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto a = read_safetensors((dir / "run/checkpoints/step-00000096/model.safetensors").string());
  const auto b = read_safetensors((resumed / "checkpoints/step-00000096/model.safetensors").string());
  ASSERT_EQ(a.tensors.size(), b.tensors.size());
  for (const auto& [tensor, t] : a.tensors)
    EXPECT_EQ(t.to_vector<float>(), b.tensors.at(tensor).to_vector<float>()) << tensor;
}

TEST(TrainE2E, ResumeEqualsUninterruptedBitForBit) {
  expect_resume_from_step_32_equals_the_whole_run("resume", "");
}

// Adding optimizer groups on resume reorders the optimizer's parameters:
// the saved moments follow their parameters by name (they went to other
// parameters by position before), so with the groups at the default lr the
// resumed run still equals the uninterrupted one.
TEST(TrainE2E, ResumeWithOtherGroupsKeepsEachParametersMoments) {
  expect_resume_from_step_32_equals_the_whole_run(
      "resume_groups", " --set 'optimizer.groups=[{name: last, patterns: [\"model.2.*\"]}]'");
}

// A run never writes next to another run's checkpoints: pruning kept the
// highest steps, so the new run's own checkpoints were deleted and `latest`
// named a missing folder. Starting afresh, branching from an earlier step
// into the same run_dir, or resuming with another batch size (a position
// that is not this run's) are exit 2, and every checkpoint stays.
TEST(TrainE2E, ARunDirWithAnotherRunsCheckpointsIsRefused) {
  const fs::path dir = fresh_dir("run_dir_taken");
  const std::string config = write_config(dir);
  ASSERT_EQ(run("--config " + config).exit_code, 0);
  const auto listing = [&] {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(dir / "run/checkpoints"))
      names.push_back(e.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
  };
  const auto before = listing();
  Result r = run("--config " + config + " --set train.epochs=1 2>&1");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("--resume " + (dir / "run").string()), std::string::npos) << r.output;
  r = run("--config " + config + " --resume " + (dir / "run/checkpoints/step-00000032").string() +
          " 2>&1");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("later checkpoint"), std::string::npos) << r.output;
  r = run("--config " + config + " --set run_dir=" + (dir / "other").string() +
          " --set data.batch_size=64 --resume " +
          (dir / "run/checkpoints/step-00000032").string() + " 2>&1");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("the run used data.batch_size 32, this config 64"), std::string::npos)
      << r.output;
  // Continuing a checkpoint in a run_dir that holds another run's would
  // prune that run's checkpoints (it deleted them).
  ASSERT_EQ(run("--config " + config + " --set run_dir=" + (dir / "other").string() +
                " --set train.max_steps=1").exit_code, 0);
  r = run("--config " + config + " --set run_dir=" + (dir / "other").string() + " --resume " +
          (dir / "run/checkpoints/step-00000032").string() + " 2>&1");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("holds the checkpoints of another run"), std::string::npos) << r.output;
  EXPECT_TRUE(fs::exists(dir / "other/checkpoints/step-00000001/model.safetensors"));
  EXPECT_EQ(listing(), before);
  // Resuming the latest in place is the way to go on: allowed.
  r = run("--config " + config + " --set train.epochs=4 --resume " + (dir / "run").string());
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(fs::exists(dir / "run/checkpoints/step-00000128/model.safetensors"));
}

TEST(TrainE2E, SigtermLeavesALoadableCheckpointAndExitsZero) {
  const fs::path dir = fresh_dir("sigterm");
  const std::string config = write_config(dir, "");
  std::vector<std::string> args = {kTrain, "--config", config, "--set", "train.epochs=100000"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  ASSERT_EQ(posix_spawn(&pid, kTrain.c_str(), nullptr, nullptr, argv.data(), environ), 0);
  // Wait until it is training (its first checkpoint exists), then preempt it.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!fs::exists(dir / "run/checkpoints/latest") && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  kill(pid, SIGTERM);
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  const std::string latest = train::resolve_checkpoint_dir((dir / "run").string());
  const auto checkpoint = train::read_checkpoint(latest, true);
  EXPECT_EQ(checkpoint.model.size(), 4u);
}

// A diverging run (it printed "test loss -nan" and exited 0) stops at the
// first non-finite loss it sees, exit 1, and every checkpoint it left holds
// finite values (read_checkpoint refuses others).
TEST(TrainE2E, ADivergingRunStopsWithAnErrorBeforeCheckpointingNaN) {
  const fs::path dir = fresh_dir("diverge");
  const std::string config = write_config(dir);
  const Result r = run("--config " + config +
                       " --set optimizer.lr=1e30 --set train.checkpoint_every=1 2>&1");
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("the run diverged (lower optimizer.lr"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("steps "), std::string::npos) << r.output;
  const auto steps = train::checkpoint_steps((dir / "run").string());
  for (const auto& [step, path] : steps) EXPECT_NO_THROW(train::read_checkpoint(path, true)) << path;
  EXPECT_LT(steps.empty() ? 0 : steps.back().first, 96);

  // A LAPLEX layer refuses non-finite anchors inside its forward; the run
  // says it diverged (it said "laplex: the target anchors t contain a NaN").
  const Result laplex = run("--config " + config + " --set run_dir=" + (dir / "laplex").string() +
                            " --set 'model={type: sequential, layers: [{type: laplex, in: 16, "
                            "out: 4}]}' --set optimizer.lr=1e300 2>&1");
  EXPECT_EQ(laplex.exit_code, 1) << laplex.output;
  EXPECT_NE(laplex.output.find("the run diverged"), std::string::npos) << laplex.output;
}

TEST(TrainE2E, BadInputsExitTwoNamingTheProblemAndKeepCheckpoints) {
  const fs::path dir = fresh_dir("bad");
  const std::string config = write_config(dir);
  ASSERT_EQ(run("--config " + config).exit_code, 0);
  const auto before = fs::last_write_time(dir / "run/checkpoints/step-00000096/model.safetensors");

  Result r = run("--config " + config + " --set model.layers.0.colour=red");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("colour: unknown key"), std::string::npos) << r.output;

  r = run("--config " + config + " --set data.dataset=fashion_mnist --set data.root=/nonexistent");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("/nonexistent"), std::string::npos) << r.output;

  // Labels past the model's last logit: stopped before the first step (it
  // failed at the first step or, for test labels, after a whole epoch).
  r = run("--config " + config + " --set data.synthetic_classes=5 2>&1");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("the data's labels need 5"), std::string::npos) << r.output;

  // A NaN in npy inputs trained to NaN losses with exit 0; task covariance
  // ignored random_crop.
  const fs::path npy = dir / "npy";
  fs::create_directories(npy);
  Tensor inputs = Tensor::zeros({8, 16});
  inputs.data<float>()[37] = NAN;
  for (const char* split : {"train", "test"}) {
    data::write_npy((npy / (std::string(split) + "_inputs.npy")).string(), inputs);
    data::write_npy((npy / (std::string(split) + "_labels.npy")).string(),
                    Tensor::zeros({8}, DType::i64));
  }
  r = run("--config " + config + " --set data.dataset=npy --set data.root=" + npy.string() +
          " 2>&1");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("train_inputs.npy: element 37 (row 2) is NaN or infinite"), std::string::npos)
      << r.output;
  r = run("--config " + config + " --set task=covariance --set data.random_crop=2 " +
          "--set 'model={type: diagonal, dims: 16}' 2>&1");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("data.random_crop"), std::string::npos) << r.output;

  const fs::path fake = dir / "fake";
  fs::create_directories(fake);
  std::ofstream(fake / "train-images-idx3-ubyte", std::ios::binary) << "GIF89a not an idx file";
  std::ofstream(fake / "train-labels-idx1-ubyte", std::ios::binary) << "nope";
  r = run("--config " + config + " --set data.dataset=fashion_mnist --set data.root=" + fake.string());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("magic"), std::string::npos) << r.output;

  const fs::path broken = dir / "broken";
  fs::copy(dir / "run/checkpoints/step-00000064", broken);
  fs::resize_file(broken / "model.safetensors", fs::file_size(broken / "model.safetensors") / 2);
  r = run("--config " + config + " --resume " + broken.string());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("model.safetensors"), std::string::npos) << r.output;

  // A config error leaves no run_dir behind; a directory where the run's log
  // goes is named (it failed in the logger, exit 1).
  r = run("--config " + config + " --set run_dir=" + (dir / "new/a/b").string() +
          " --set model.layers.0.in=3 2>&1");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_FALSE(fs::exists(dir / "new")) << r.output;
  fs::create_directories(dir / "logdir/train.log");
  r = run("--config " + config + " --set run_dir=" + (dir / "logdir").string() + " 2>&1");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("train.log: is a directory"), std::string::npos) << r.output;

  // A position relabelled float64 (its int64 bytes read as 0.0) resumed at
  // step 0 and blamed the run_dir's later checkpoints.
  const fs::path relabelled = dir / "relabelled";
  fs::copy(dir / "run/checkpoints/step-00000064", relabelled);
  SafetensorsFile state = read_safetensors((relabelled / "train_state.safetensors").string());
  state.tensors["trainer.position"] = Tensor::from_vector<double>({64, 2, 0}, {3});
  write_safetensors((relabelled / "train_state.safetensors").string(), state.tensors, state.metadata);
  r = run("--config " + config + " --resume " + relabelled.string() + " 2>&1");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("trainer.position is float64, expected int64"), std::string::npos)
      << r.output;

  // No parameters to train (it failed inside autograd, exit 1); sgd options
  // checked by the optimizer name the config; empty flags are refused
  // (--resume '' started a fresh run).
  r = run("--config " + config + " --set 'model={type: sequential, layers: [{type: relu}]}' 2>&1");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find(config + ": model: it has no parameters to train"), std::string::npos)
      << r.output;
  r = run("--config " + config + " --set run_dir=" + (dir / "sgd").string() +
          " --set optimizer.type=sgd --set optimizer.nesterov=true 2>&1");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find(config + ": optimizer: sgd: nesterov"), std::string::npos) << r.output;
  // 1025 examples in batches of 32 leave a last batch of one, which a 1-D
  // batch norm cannot normalise: it stopped the run an epoch in (exit 1).
  r = run("--config " + config + " --set run_dir=" + (dir / "bn").string() +
          " --set data.synthetic_train=1025 --set 'model={type: sequential, layers: [{type: "
          "linear, in: 16, out: 8}, {type: batchnorm, features: 8}, {type: linear, in: 8, out: "
          "4}]}' 2>&1");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("the batchnorm model.1 needs at least 2 in training"), std::string::npos)
      << r.output;
  EXPECT_FALSE(fs::exists(dir / "bn"));
  r = run("--config " + config + " --set model.layers.2.in=31 2>&1");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("model.layers[2] (linear): "), std::string::npos) << r.output;
  r = run("--config " + config + " --resume '' 2>&1");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("--resume"), std::string::npos) << r.output;

  r = run("--config " + (dir / "missing.yaml").string());
  EXPECT_EQ(r.exit_code, 2);
  r = run("--frobnicate");
  EXPECT_EQ(r.exit_code, 2);

  EXPECT_EQ(fs::last_write_time(dir / "run/checkpoints/step-00000096/model.safetensors"), before);
  EXPECT_EQ(fs::path(train::resolve_checkpoint_dir((dir / "run").string())).filename(),
            "step-00000096");
}

// A run that fails on what it was given leaves no run_dir and prints one
// line: a bad --resume made run_dir and its train.log, and logged a line
// before the error. Sizes that cannot be allocated, and a negative seed,
// are config errors (exit 2), not an exit 1 out of memory.
TEST(TrainE2E, FailuresOnInputLeaveNoRunDirAndPrintOneLine) {
  const fs::path dir = fresh_dir("one_line");
  const std::string config = write_config(dir);
  fs::create_directories(dir / "empty");
  std::ofstream(dir / "plain_file") << "not a checkpoint\n";
  for (const fs::path& resume : {dir / "empty", dir / "missing", dir / "plain_file"}) {
    const Result r = run("--config " + config + " --set run_dir=" + (dir / "fresh").string() +
                         " --resume " + resume.string() + " 2>&1");
    EXPECT_EQ(r.exit_code, 2) << r.output;
    EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << r.output;
    EXPECT_FALSE(fs::exists(dir / "fresh")) << r.output;
  }
  Result r = run("--config " + config + " --set model.layers.0.out=1099511627776" +
                 " --set model.layers.2.in=1099511627776 2>&1");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find(config + ": model: its parameters do not fit in this machine's memory"),
            std::string::npos)
      << r.output;
  r = run("--config " + config + " --set data.synthetic_train=2147483648 2>&1");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("data: the data set does not fit"), std::string::npos) << r.output;
  // Past 2^31 examples the config itself is refused (examples x features
  // wrapped past 2^63 and the message named neither file nor key).
  r = run("--config " + config + " --set data.synthetic_train=9223372036854775807 2>&1");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("data.synthetic_train: must be <= 2^31"), std::string::npos) << r.output;
  r = run("--config " + config + " --set seed=-5 2>&1");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("seed: must be >= 0"), std::string::npos) << r.output;
  // An unknown top-level key made by --set names the argument, not the file.
  r = run("--config " + config + " --set foo.bar=1 2>&1");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("--set foo.bar=1: foo: unknown key"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(dir / "run")) << r.output;
  // --help anywhere prints the help, whatever the other values (CLI11
  // checked them first: "--config '' --help" was exit 2).
  const std::string eval = testing::program_path("laplex-eval");
  for (const std::string& command : {kTrain + " --config '' --help", kTrain + " -h --frobnicate",
                                     eval + " --checkpoint '' --help"}) {
    r = testing::run_command(command + " 2>&1");
    EXPECT_EQ(r.exit_code, 0) << command << "\n" << r.output;
    EXPECT_NE(r.output.find("Usage:"), std::string::npos) << command << "\n" << r.output;
  }
}

}  // namespace
}  // namespace laplex
