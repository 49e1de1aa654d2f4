#include "apps/train/checkpoint.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cmath>
#include <filesystem>
#include <fstream>

namespace laplex::train {
namespace {

namespace fs = std::filesystem;

Checkpoint sample(float value) {
  Checkpoint c;
  c.model["model.0.weight"] = Tensor::full({2, 2}, value);
  c.model_metadata["config"] = "model: {}\n";
  c.train_state["optimizer.param.0.step"] = Tensor::from_vector<std::int64_t>({3}, {1});
  return c;
}

TEST(Checkpoint, LatestPointerKeepLastAndResolve) {
  const fs::path run = fs::temp_directory_path() / "laplex_checkpoint_test";
  fs::remove_all(run);
  for (int step : {10, 20, 30}) write_checkpoint(run.string(), step, sample(float(step)), 2);
  EXPECT_FALSE(fs::exists(run / "checkpoints/step-00000010"));
  EXPECT_TRUE(fs::exists(run / "checkpoints/step-00000020"));
  const std::string dir = resolve_checkpoint_dir(run.string());
  EXPECT_EQ(fs::path(dir).filename(), "step-00000030");
  const Checkpoint back = read_checkpoint(dir, true);
  EXPECT_EQ(back.model.at("model.0.weight").to_vector<float>()[0], 30.0f);
  EXPECT_EQ(back.model_metadata.at("step"), "30");
  EXPECT_EQ(back.model_metadata.at("format_version"), kCheckpointFormatVersion);
  EXPECT_EQ(back.train_state.size(), 1u);
  // No temporary leftovers.
  for (const auto& entry : fs::directory_iterator(run / "checkpoints"))
    EXPECT_EQ(entry.path().filename().string().find(".tmp"), std::string::npos);
  fs::remove_all(run);
}

// The checkpoint `latest` names is never what a prune removes, even next to
// later steps (they held the highest names, and the new one was deleted);
// a step saved again replaces the old one whole; the listing is by number.
TEST(Checkpoint, PruningKeepsTheNewestUpToTheStepWrittenAndResavesReplace) {
  const fs::path run = fs::temp_directory_path() / "laplex_checkpoint_prune";
  fs::remove_all(run);
  for (int step : {10, 20, 30}) write_checkpoint(run.string(), step, sample(float(step)), 2);
  write_checkpoint(run.string(), 15, sample(15.0f), 1);
  EXPECT_EQ(fs::path(resolve_checkpoint_dir(run.string() + "/checkpoints/step-00000015")).filename(),
            "step-00000015");
  write_checkpoint(run.string(), 15, sample(-15.0f), 1);
  const Checkpoint again =
      read_checkpoint(resolve_checkpoint_dir(run.string() + "/checkpoints/step-00000015"), false);
  EXPECT_EQ(again.model.at("model.0.weight").to_vector<float>()[0], -15.0f);
  fs::create_directories(run / "checkpoints/step-99999999999999999999");  // not an int64
  std::vector<std::int64_t> steps;
  for (const auto& [step, path] : checkpoint_steps(run.string())) steps.push_back(step);
  EXPECT_EQ(steps, (std::vector<std::int64_t>{15, 20, 30}));
  for (const auto& entry : fs::directory_iterator(run / "checkpoints"))
    EXPECT_EQ(entry.path().filename().string().find(".tmp"), std::string::npos);
  EXPECT_THROW(check_run_dir(run.string(), true), UsageError);
  EXPECT_NO_THROW(check_run_dir(run.string(), false));
  fs::remove_all(run);
}

// A process killed (or a disk filled) between moving a step directory into
// place and rewriting `latest` left no `latest`, an empty one, or one naming
// the step before: --resume of the run refused, and so did a fresh run. The
// newest whole step directory is the run's checkpoint then.
TEST(Checkpoint, ANewerStepDirectoryThanLatestIsTheRunsCheckpoint) {
  const fs::path run = fs::temp_directory_path() / "laplex_checkpoint_latest_behind";
  fs::remove_all(run);
  for (int step : {10, 20}) write_checkpoint(run.string(), step, sample(float(step)), 0);
  const fs::path latest = run / "checkpoints/latest";
  std::ofstream(latest, std::ios::trunc) << "step-00000010\n";
  EXPECT_EQ(fs::path(resolve_checkpoint_dir(run.string())).filename(), "step-00000020");
  std::ofstream(latest, std::ios::trunc) << "";
  EXPECT_EQ(fs::path(resolve_checkpoint_dir(run.string())).filename(), "step-00000020");
  fs::remove(latest);
  EXPECT_EQ(fs::path(resolve_checkpoint_dir(run.string())).filename(), "step-00000020");
  // A step directory without a model (not one write_checkpoint made) is passed over.
  fs::create_directories(run / "checkpoints/step-00000030");
  EXPECT_EQ(fs::path(resolve_checkpoint_dir(run.string())).filename(), "step-00000020");
  fs::remove_all(run);
}

TEST(Checkpoint, BadPathsAreUsageErrors) {
  const fs::path run = fs::temp_directory_path() / "laplex_checkpoint_bad";
  fs::remove_all(run);
  EXPECT_THROW(resolve_checkpoint_dir(run.string()), UsageError);
  fs::create_directories(run / "checkpoints");
  std::ofstream(run / "checkpoints/latest") << "step-00000099\n";
  EXPECT_THROW(resolve_checkpoint_dir(run.string()), UsageError);
  // A damaged `latest` (it printed the path cut at a NUL, or a 13 MB line,
  // or failed in std::filesystem with exit 1) and a path too long for the
  // system are one-line UsageErrors.
  const std::string expected = (run / "checkpoints/latest").string() +
                               ": expected the name of a step directory (step-NNNNNNNN) on its first line";
  for (const std::string& junk : {std::string("\0\xff\0\xff", 4), std::string(100000, 's'),
                                  std::string("../../etc"), std::string()}) {
    std::ofstream(run / "checkpoints/latest", std::ios::binary) << junk;
    try {
      resolve_checkpoint_dir(run.string());
      ADD_FAILURE() << "accepted a latest of " << junk.size() << " bytes";
    } catch (const UsageError& e) {
      EXPECT_EQ(std::string(e.what()), expected);
    }
  }
  EXPECT_THROW(resolve_checkpoint_dir(std::string(5000, 'a')), UsageError);
  fs::remove_all(run);
}

// A NaN or an infinity in either file is refused with the file and the
// tensor (such checkpoints were evaluated to NaN scores with exit 0).
TEST(Checkpoint, NonFiniteTensorsAreUsageErrorsNamingFileAndTensor) {
  const fs::path run = fs::temp_directory_path() / "laplex_checkpoint_non_finite";
  fs::remove_all(run);
  Checkpoint bad = sample(1.0f);
  bad.model["model.1.bias"] = Tensor::from_vector<float>({0.0f, 1.0f, NAN}, {3});
  const std::string dir = write_checkpoint(run.string(), 1, bad, 0);
  try {
    read_checkpoint(dir, false);
    ADD_FAILURE() << "a NaN was read";
  } catch (const UsageError& e) {
    EXPECT_EQ(std::string(e.what()), dir + "/model.safetensors: tensor 'model.1.bias' holds a NaN "
                                           "or an infinity (element 2)");
  }
  Checkpoint bad_state = sample(1.0f);
  bad_state.train_state["optimizer.param.0.exp_avg"] = Tensor::full({2, 2}, INFINITY);
  const std::string dir2 = write_checkpoint(run.string(), 2, bad_state, 0);
  EXPECT_NO_THROW(read_checkpoint(dir2, false));  // the model alone is fine
  try {
    read_checkpoint(dir2, true);
    ADD_FAILURE() << "an infinity was read";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find(dir2 + "/train_state.safetensors: tensor "
                                                 "'optimizer.param.0.exp_avg'"),
              std::string::npos)
        << e.what();
  }
  fs::remove_all(run);
}

// A name holds whatever bytes a damaged or foreign header gives it; quoted
// raw, a newline in it split the message over two lines.
TEST(Checkpoint, NonFiniteTensorWithANewlineInItsNameIsReportedOnOneLine) {
  const fs::path run = fs::temp_directory_path() / "laplex_checkpoint_newline_name";
  fs::remove_all(run);
  Checkpoint bad = sample(1.0f);
  bad.model["model.1\nbias"] = Tensor::from_vector<float>({NAN}, {1});
  const std::string dir = write_checkpoint(run.string(), 1, bad, 0);
  try {
    read_checkpoint(dir, false);
    ADD_FAILURE() << "a NaN was read";
  } catch (const UsageError& e) {
    EXPECT_EQ(std::string(e.what()), dir + "/model.safetensors: tensor 'model.1?bias' holds a NaN "
                                           "or an infinity (element 0)");
  }
  fs::remove_all(run);
}

// A FIFO named train.log made the run block forever in its first log line
// (opening it for writing waits for a reader).
TEST(Checkpoint, ARunFileThatIsNotARegularFileIsAUsageError) {
  const fs::path run = fs::temp_directory_path() / "laplex_checkpoint_fifo";
  fs::remove_all(run);
  fs::create_directories(run);
  ASSERT_EQ(mkfifo((run / "train.log").c_str(), 0600), 0);
  try {
    check_run_dir(run.string(), true);
    FAIL();
  } catch (const UsageError& e) {
    EXPECT_EQ(std::string(e.what()), (run / "train.log").string() +
                                         ": is not a regular file (a pipe or device?), expected "
                                         "the run's file (it is appended to)");
  }
  fs::remove(run / "train.log");
  fs::create_directories(run / "metrics.jsonl");
  EXPECT_THROW(check_run_dir(run.string(), true), UsageError);
  fs::remove_all(run / "metrics.jsonl");
  std::ofstream(run / "train.log") << "an earlier run's log\n";
  EXPECT_NO_THROW(check_run_dir(run.string(), true));
  fs::remove_all(run);
}

}  // namespace
}  // namespace laplex::train
