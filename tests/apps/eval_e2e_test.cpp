// laplex-eval end to end (label e2e): --inputs/--outputs on classifier and
// density checkpoints, --explain pictures, and bad inputs exiting 2 with no
// output file left behind. Also task `covariance` in laplex-train: a
// LAPLEX-OU model beats independent pixels on correlated data.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "apps/train/checkpoint.h"
#include "apps/train/model_builder.h"
#include "core/autograd/grad_mode.h"
#include "core/random.h"
#include "core/safetensors.h"
#include "data/image.h"
#include "data/npy.h"
#include "helpers/process.h"
#include "helpers/temp_dir.h"

namespace laplex {
namespace {

namespace fs = std::filesystem;

const std::string kTrain = testing::program_path("laplex-train");
const std::string kEval = testing::program_path("laplex-eval");

fs::path fresh_dir(const std::string& name) { return testing::fresh_temp_dir("eval_e2e_" + name); }

std::string classifier_config(const fs::path& dir) {
  const fs::path path = dir / "config.yaml";
  std::ofstream(path) << "seed: 3\ndevice: cpu\nrun_dir: " << (dir / "run").string() << "\n"
                      << R"(data: {dataset: synthetic, synthetic_train: 256, synthetic_test: 64,
       synthetic_features: 16, synthetic_classes: 4, batch_size: 32}
model:
  type: sequential
  layers:
    - {type: laplex, in: 16, out: 8, heads: 2}
    - {type: relu}
    - {type: linear, in: 8, out: 4}
optimizer: {type: adam, lr: 0.01}
train: {epochs: 1, log_every: 4}
)";
  return path.string();
}

std::string covariance_config(const fs::path& dir, const std::string& model,
                              const std::string& model_keys = "") {
  const fs::path path = dir / ("cov_" + model + ".yaml");
  std::ofstream(path) << "seed: 5\ndevice: cpu\ntask: covariance\nrun_dir: "
                      << (dir / ("run_" + model)).string() << "\n"
                      << R"(data: {dataset: synthetic, synthetic_train: 512, synthetic_test: 128,
       synthetic_features: 64, batch_size: 32, eval_batch_size: 64}
model: {type: )" << model << R"(, dims: 64)" << model_keys << R"(}
optimizer: {type: adam, lr: 0.02}
train: {epochs: 4, log_every: 8}
)";
  return path.string();
}

double last_test_value(const fs::path& run_dir, const std::string& key) {
  std::ifstream in(run_dir / "metrics.jsonl");
  std::string line, last;
  while (std::getline(in, line))
    if (line.find("\"split\":\"test\"") != std::string::npos) last = line;
  const auto at = last.find("\"" + key + "\":");
  return at == std::string::npos ? NAN : std::stod(last.substr(at + key.size() + 3));
}

// The checkpoint's model, rebuilt in this process, applied to x.
Tensor in_process_outputs(const fs::path& run_dir, const Tensor& x) {
  const auto dir = train::resolve_checkpoint_dir(run_dir.string());
  const auto checkpoint = train::read_checkpoint(dir, false);
  const YAML::Node config = YAML::Load(checkpoint.model_metadata.at("config"));
  auto model = train::build_model_from_yaml(config["model"], config["seed"].as<std::uint64_t>(), dir);
  model->load_state_dict(checkpoint.model, "model");
  model->eval();
  NoGradGuard no_grad;
  return model->forward(x);
}

TEST(EvalE2E, InputsOutputsRoundTripOnAClassifier) {
  const fs::path dir = fresh_dir("classifier");
  ASSERT_EQ(testing::run_command(kTrain + " --config " + classifier_config(dir)).exit_code, 0);
  Generator rng(11);
  const Tensor x = randn({10, 16}, rng);
  data::write_npy((dir / "x.npy").string(), x);
  const auto r = testing::run_command(kEval + " --checkpoint " + (dir / "run").string() +
                                      " --inputs " + (dir / "x.npy").string() + " --outputs " +
                                      (dir / "y.npy").string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const Tensor y = data::read_npy((dir / "y.npy").string());
  ASSERT_EQ(y.shape(), (Shape{10, 4}));
  EXPECT_EQ(y.dtype(), DType::f32);
  EXPECT_EQ(y.to_vector<float>(), in_process_outputs(dir / "run", x).to_vector<float>());

  // A wrong row shape and a wrong dtype: exit 2 naming the file, no output written.
  data::write_npy((dir / "bad.npy").string(), randn({3, 5}, rng));
  auto bad = testing::run_command(kEval + " --checkpoint " + (dir / "run").string() + " --inputs " +
                                  (dir / "bad.npy").string() + " --outputs " +
                                  (dir / "bad_out.npy").string());
  EXPECT_EQ(bad.exit_code, 2) << bad.output;
  EXPECT_NE(bad.output.find("bad.npy"), std::string::npos) << bad.output;
  EXPECT_FALSE(fs::exists(dir / "bad_out.npy"));
  data::write_npy((dir / "ints.npy").string(), Tensor::zeros({3, 16}, DType::i64));
  bad = testing::run_command(kEval + " --checkpoint " + (dir / "run").string() + " --inputs " +
                             (dir / "ints.npy").string() + " --outputs " + (dir / "o.npy").string());
  EXPECT_EQ(bad.exit_code, 2) << bad.output;
  EXPECT_NE(bad.output.find("float32"), std::string::npos) << bad.output;
  bad = testing::run_command(kEval + " --checkpoint " + (dir / "run").string() + " --inputs " +
                             (dir / "x.npy").string());
  EXPECT_EQ(bad.exit_code, 2) << bad.output;
  std::ofstream(dir / "junk.npy") << "not an array";
  bad = testing::run_command(kEval + " --checkpoint " + (dir / "run").string() + " --inputs " +
                             (dir / "junk.npy").string() + " --outputs " + (dir / "o.npy").string());
  EXPECT_EQ(bad.exit_code, 2) << bad.output;
  EXPECT_NE(bad.output.find("junk.npy"), std::string::npos) << bad.output;
  EXPECT_FALSE(fs::exists(dir / "o.npy"));
}

// --outputs through a symbolic link writes the link's target (renaming over
// the link used to replace it); a checkpoint whose embedded task is not a
// task name, or whose tensors do not fit the model, is exit 2 naming it.
TEST(EvalE2E, OutputsThroughALinkAndForeignCheckpointsNameTheProblem) {
  const fs::path dir = fresh_dir("links");
  ASSERT_EQ(testing::run_command(kTrain + " --config " + classifier_config(dir)).exit_code, 0);
  Generator rng(13);
  data::write_npy((dir / "x.npy").string(), randn({4, 16}, rng));
  fs::create_directories(dir / "real");
  fs::create_symlink("real/y.npy", dir / "y_link.npy");
  const std::string checkpoint = train::resolve_checkpoint_dir((dir / "run").string());
  auto r = testing::run_command(kEval + " --checkpoint " + checkpoint + " --inputs " +
                                (dir / "x.npy").string() + " --outputs " +
                                (dir / "y_link.npy").string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(fs::is_symlink(dir / "y_link.npy"));
  EXPECT_EQ(data::read_npy((dir / "real" / "y.npy").string()).shape(), (Shape{4, 4}));

  auto rewritten = [&](const std::string& name, const std::string& config_edit,
                       const std::string& tensor_dropped) {
    const fs::path copy = dir / name;
    fs::create_directories(copy);
    SafetensorsFile file = read_safetensors(checkpoint + "/model.safetensors");
    file.metadata["config"] += config_edit;
    file.tensors.erase(tensor_dropped);
    write_safetensors((copy / "model.safetensors").string(), file.tensors, file.metadata);
    return copy.string();
  };
  r = testing::run_command(kEval + " --checkpoint " + rewritten("task_map", "task: {a: 1}\n", "") +
                           " --inputs " + (dir / "x.npy").string() + " --outputs " +
                           (dir / "o.npy").string() + " 2>&1");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("task: expected classification or covariance"), std::string::npos)
      << r.output;
  // An error outside the model section cites its own line of the embedded
  // config (a cloned YAML node used to cite line 1 for all of them).
  {
    const std::string config = read_safetensors(checkpoint + "/model.safetensors").metadata.at("config");
    const auto last_line = std::count(config.begin(), config.end(), '\n') + 1;
    r = testing::run_command(kEval + " --checkpoint " + rewritten("bogus_key", "bogus: 1\n", "") +
                             " 2>&1");
    EXPECT_EQ(r.exit_code, 2) << r.output;
    EXPECT_NE(r.output.find("[config]:" + std::to_string(last_line) + ": bogus: unknown key"),
              std::string::npos)
        << r.output;
  }
  r = testing::run_command(kEval + " --checkpoint " + rewritten("no_t", "", "model.0.t") +
                           " --inputs " + (dir / "x.npy").string() + " --outputs " +
                           (dir / "o.npy").string() + " 2>&1");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("no_t/model.safetensors"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("model.0.t"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(dir / "o.npy"));
  // --inputs runs on the config's device unless --device names another: a
  // checkpoint trained with device: cuda asks for a GPU (which this
  // machine may lack), and --device cpu scores it anywhere.
  {
    const fs::path copy = dir / "on_cuda";
    fs::create_directories(copy);
    SafetensorsFile file = read_safetensors(checkpoint + "/model.safetensors");
    std::string& config = file.metadata["config"];
    const auto at = config.find("device: cpu");
    ASSERT_NE(at, std::string::npos) << config;
    config.replace(at, std::string("device: cpu").size(), "device: cuda");
    write_safetensors((copy / "model.safetensors").string(), file.tensors, file.metadata);
    const std::string args = " --checkpoint " + copy.string() + " --inputs " + (dir / "x.npy").string() +
                             " --outputs " + (dir / "o.npy").string() + " 2>&1";
    if (!cuda_available()) {
      r = testing::run_command(kEval + args);
      EXPECT_EQ(r.exit_code, 2) << r.output;
      EXPECT_NE(r.output.find("cuda"), std::string::npos) << r.output;
      EXPECT_FALSE(fs::exists(dir / "o.npy"));
    }
    r = testing::run_command(kEval + args + " --device cpu");
    EXPECT_EQ(r.exit_code, 0) << r.output;
    EXPECT_TRUE(fs::exists(dir / "o.npy"));
    fs::remove(dir / "o.npy");
  }
  // --explain where a file stands: exit 2 naming it, the file untouched.
  std::ofstream(dir / "a_file") << "keep";
  r = testing::run_command(kEval + " --checkpoint " + checkpoint + " --explain " +
                           (dir / "a_file").string() + " 2>&1");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("a_file"), std::string::npos) << r.output;
  EXPECT_EQ(fs::file_size(dir / "a_file"), 4u);
}

// --data with only a test split (the npy or MNIST-format test files): the
// report needs no training files, and a split without the last classes
// still gets the model's classes x classes confusion matrix.
TEST(EvalE2E, DataWithOnlyATestSplitIsEvaluated) {
  const fs::path dir = fresh_dir("test_only");
  Generator rng(17);
  fs::create_directories(dir / "full");
  data::write_npy((dir / "full" / "train_inputs.npy").string(), randn({64, 16}, rng));
  data::write_npy((dir / "full" / "test_inputs.npy").string(), randn({16, 16}, rng));
  std::vector<std::int64_t> labels(64);
  for (std::size_t i = 0; i < labels.size(); ++i) labels[i] = static_cast<std::int64_t>(i % 4);
  data::write_npy((dir / "full" / "train_labels.npy").string(), Tensor::from_vector(labels, {64}));
  labels.resize(16);
  data::write_npy((dir / "full" / "test_labels.npy").string(), Tensor::from_vector(labels, {16}));
  const fs::path config = dir / "config.yaml";
  std::ofstream(config) << "device: cpu\nrun_dir: " << (dir / "run").string()
                        << "\ndata: {dataset: npy, root: " << (dir / "full").string()
                        << ", batch_size: 16}\nmodel: {type: sequential, layers: "
                           "[{type: laplex, in: 16, out: 4}]}\ntrain: {epochs: 1}\n";
  auto r = testing::run_command(kTrain + " --config " + config.string() + " 2>&1");
  ASSERT_EQ(r.exit_code, 0) << r.output;

  fs::create_directories(dir / "test_only");
  data::write_npy((dir / "test_only" / "test_inputs.npy").string(), randn({6, 16}, rng));
  data::write_npy((dir / "test_only" / "test_labels.npy").string(),
                  Tensor::from_vector<std::int64_t>({0, 1, 0, 1, 1, 0}, {6}));
  r = testing::run_command(kEval + " --checkpoint " + (dir / "run").string() + " --data " +
                           (dir / "test_only").string() + " --json 2>&1");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("\"examples\":6"), std::string::npos) << r.output;
  const auto confusion = r.output.find("\"confusion\":[[");
  ASSERT_NE(confusion, std::string::npos) << r.output;
  const std::string matrix = r.output.substr(confusion, r.output.find("]]", confusion) - confusion);
  EXPECT_EQ(std::count(matrix.begin(), matrix.end(), '['), 5) << matrix;  // 4 rows

  // Rows the model does not take: the folder is named, exit 2 (it was exit 1
  // with the first layer's message).
  fs::create_directories(dir / "wide");
  data::write_npy((dir / "wide" / "test_inputs.npy").string(), randn({3, 20}, rng));
  data::write_npy((dir / "wide" / "test_labels.npy").string(),
                  Tensor::from_vector<std::int64_t>({0, 1, 2}, {3}));
  r = testing::run_command(kEval + " --checkpoint " + (dir / "run").string() + " --data " +
                           (dir / "wide").string() + " 2>&1");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find((dir / "wide").string() + ": the model does not take these examples"),
            std::string::npos)
      << r.output;

  fs::create_directories(dir / "empty");
  data::write_npy((dir / "empty" / "test_inputs.npy").string(), Tensor::empty({0, 16}));
  data::write_npy((dir / "empty" / "test_labels.npy").string(), Tensor::empty({0}, DType::i64));
  r = testing::run_command(kEval + " --checkpoint " + (dir / "run").string() + " --data " +
                           (dir / "empty").string() + " 2>&1");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find((dir / "empty").string() + ": the test split has no examples"),
            std::string::npos)
      << r.output;
}

// --outputs onto the --inputs file or into the checkpoint replaced them
// (exit 0); now refused, both left as they were.
TEST(EvalE2E, OutputsNeverReplaceTheInputsOrTheCheckpoint) {
  const fs::path dir = fresh_dir("outputs_clash");
  ASSERT_EQ(testing::run_command(kTrain + " --config " + classifier_config(dir)).exit_code, 0);
  Generator rng(19);
  const fs::path x = dir / "x.npy";
  data::write_npy(x.string(), randn({4, 16}, rng));
  const auto x_size = fs::file_size(x);
  const std::string step = train::resolve_checkpoint_dir((dir / "run").string());
  const auto model_size = fs::file_size(step + "/model.safetensors");
  const std::vector<std::pair<std::string, std::string>> cases = {
      {x.string(), "is the --inputs file"},
      {(dir / "." / "x.npy").string(), "is the --inputs file"},
      {step + "/model.safetensors", "is inside the checkpoint's folder"},
      {(dir / "run" / "checkpoints" / "latest").string(), "is inside the checkpoint's folder"},
  };
  for (const auto& [outputs, expected] : cases) {
    const auto r = testing::run_command(kEval + " --checkpoint " + (dir / "run").string() +
                                        " --inputs " + x.string() + " --outputs " + outputs + " 2>&1");
    EXPECT_EQ(r.exit_code, 2) << outputs << ": " << r.output;
    EXPECT_NE(r.output.find(expected), std::string::npos) << outputs << ": " << r.output;
  }
  EXPECT_EQ(fs::file_size(x), x_size);
  EXPECT_EQ(fs::file_size(step + "/model.safetensors"), model_size);
  EXPECT_EQ(fs::path(train::resolve_checkpoint_dir((dir / "run").string())), fs::path(step));
}

// Generated data reads no folder: --data was silently ignored.
TEST(EvalE2E, DataForACheckpointOfGeneratedDataIsAUsageError) {
  const fs::path dir = fresh_dir("synthetic_data_flag");
  ASSERT_EQ(testing::run_command(kTrain + " --config " + classifier_config(dir)).exit_code, 0);
  const auto r = testing::run_command(kEval + " --checkpoint " + (dir / "run").string() +
                                      " --data /nonexistent 2>&1");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("--data /nonexistent: the checkpoint's data.dataset is synthetic"),
            std::string::npos)
      << r.output;
}

TEST(EvalE2E, CheckpointRewrittenByThePythonSafetensorsLibraryLoads) {
  const std::string python = std::string(LAPLEX_SOURCE_DIR) + "/.venv/bin/python";
  if (!fs::exists(python)) GTEST_SKIP() << "no .venv with safetensors (run scripts/setup.sh --python)";
  const fs::path dir = fresh_dir("python_checkpoint");
  ASSERT_EQ(testing::run_command(kTrain + " --config " + classifier_config(dir)).exit_code, 0);
  const std::string ours = train::resolve_checkpoint_dir((dir / "run").string());
  const fs::path theirs = dir / "python-step";
  const auto copy = testing::run_command(python + " " + LAPLEX_SOURCE_DIR +
                                         "/scripts/safetensors_checkpoint_copy.py " + ours + " " +
                                         theirs.string());
  ASSERT_EQ(copy.exit_code, 0) << copy.output;
  // Python read the LAPLEX tensors under their laplex-math.md names.
  EXPECT_NE(copy.output.find("model.safetensors model.0.t float32 [2, 8]"), std::string::npos) << copy.output;
  EXPECT_NE(copy.output.find("model.safetensors model.0.s float32 [2, 16]"), std::string::npos) << copy.output;
  const auto a = train::read_checkpoint(ours, true), b = train::read_checkpoint(theirs.string(), true);
  ASSERT_EQ(a.model.size(), b.model.size());
  for (const auto& [name, t] : a.model) EXPECT_EQ(t.to_vector<float>(), b.model.at(name).to_vector<float>()) << name;
  EXPECT_EQ(a.model_metadata, b.model_metadata);
  const auto original = testing::run_command(kEval + " --checkpoint " + ours + " --json");
  const auto rewritten = testing::run_command(kEval + " --checkpoint " + theirs.string() + " --json");
  ASSERT_EQ(rewritten.exit_code, 0) << rewritten.output;
  const auto accuracy = [](const std::string& json) { return json.substr(json.find("\"accuracy\":"), 30); };
  EXPECT_EQ(accuracy(original.output), accuracy(rewritten.output));
}

TEST(EvalE2E, CovarianceTaskLaplexOuBeatsDiagonalAndGivesPerRowNll) {
  const fs::path dir = fresh_dir("covariance");
  for (const std::string model : {"laplex_ou", "diagonal"}) {
    const auto r = testing::run_command(kTrain + " --config " + covariance_config(dir, model));
    ASSERT_EQ(r.exit_code, 0) << r.output;
    EXPECT_NE(r.output.find("bpd"), std::string::npos) << r.output;
  }
  const double ou = last_test_value(dir / "run_laplex_ou", "bpd");
  const double diagonal = last_test_value(dir / "run_diagonal", "bpd");
  ASSERT_TRUE(std::isfinite(ou) && std::isfinite(diagonal));
  // The data are AR(1) rows with neighbour correlation 0.9: the OU chain
  // models that exactly, independent pixels cannot (about 1.2 bits/dim apart).
  EXPECT_LT(ou, diagonal - 0.5) << "laplex_ou " << ou << " diagonal " << diagonal;

  Generator rng(12);
  const Tensor x = rand({6, 64}, rng, DType::f64);
  data::write_npy((dir / "x.npy").string(), x);
  const auto r = testing::run_command(kEval + " --checkpoint " + (dir / "run_laplex_ou").string() +
                                      " --inputs " + (dir / "x.npy").string() + " --outputs " +
                                      (dir / "nll.npy").string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const Tensor nll = data::read_npy((dir / "nll.npy").string());
  ASSERT_EQ(nll.shape(), (Shape{6}));
  EXPECT_EQ(nll.dtype(), DType::f64);
  const auto expected = in_process_outputs(dir / "run_laplex_ou", x.to(DType::f32)).to_vector<double>();
  const auto got = nll.to_vector<double>();
  for (std::size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], expected[i], 1e-9 * std::abs(expected[i]) + 1e-9);

  const auto json = testing::run_command(kEval + " --checkpoint " + (dir / "run_laplex_ou").string() + " --json");
  ASSERT_EQ(json.exit_code, 0) << json.output;
  EXPECT_NE(json.output.find("\"bpd\":"), std::string::npos) << json.output;

  const auto pictures = testing::run_command(kEval + " --checkpoint " + (dir / "run_laplex_ou").string() +
                                             " --explain " + (dir / "pictures").string());
  ASSERT_EQ(pictures.exit_code, 0) << pictures.output;
  for (const char* name : {"samples.png", "t.png", "d.png", "mean.png"})
    EXPECT_GT(data::read_image((dir / "pictures" / name).string()).width, 0) << name;
}

TEST(EvalE2E, CovarianceResumeEqualsUninterruptedBitForBit) {
  // The dequantisation noise and the loader order must continue exactly.
  const fs::path dir = fresh_dir("covariance_resume");
  const std::string config = covariance_config(dir, "laplex_ou");
  ASSERT_EQ(testing::run_command(kTrain + " --config " + config).exit_code, 0);
  const fs::path resumed = dir / "resumed";
  const auto r = testing::run_command(kTrain + " --config " + config + " --set run_dir=" +
                                      resumed.string() + " --resume " +
                                      (dir / "run_laplex_ou/checkpoints/step-00000032").string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto a = train::read_checkpoint((dir / "run_laplex_ou/checkpoints/step-00000064").string(), false);
  const auto b = train::read_checkpoint((resumed / "checkpoints/step-00000064").string(), false);
  ASSERT_EQ(a.model.size(), 4u);
  for (const auto& [name, t] : a.model)
    EXPECT_EQ(t.to_vector<float>(), b.model.at(name).to_vector<float>()) << name;

  // With the anchors updated through float64 masters, the masters are saved
  // with the optimizer's state and the resumed run continues them exactly.
  const std::string mastered =
      " --set 'optimizer.groups=[{name: anchors, patterns: [model.t], lr: 0.05, "
      "master_weights: float64}]' --set run_dir=";
  ASSERT_EQ(testing::run_command(kTrain + " --config " + config + mastered + (dir / "mastered").string())
                .exit_code,
            0);
  const auto m = testing::run_command(kTrain + " --config " + config + mastered +
                                      (dir / "mastered_resumed").string() + " --resume " +
                                      (dir / "mastered/checkpoints/step-00000032").string());
  ASSERT_EQ(m.exit_code, 0) << m.output;
  const auto c = train::read_checkpoint((dir / "mastered/checkpoints/step-00000064").string(), true);
  const auto d = train::read_checkpoint((dir / "mastered_resumed/checkpoints/step-00000064").string(), true);
  std::size_t masters = 0;
  for (const auto& [name, t] : c.train_state)
    if (name.size() > 7 && name.compare(name.size() - 7, 7, ".master") == 0) {
      ++masters;
      EXPECT_EQ(t.dtype(), DType::f64) << name;
      EXPECT_EQ(t.to_vector<double>(), d.train_state.at(name).to_vector<double>()) << name;
    }
  EXPECT_EQ(masters, 1u);
  for (const auto& [name, t] : c.model)
    EXPECT_EQ(t.to_vector<float>(), d.model.at(name).to_vector<float>()) << name;
  EXPECT_NE(c.model.at("model.t").to_vector<float>(), a.model.at("model.t").to_vector<float>());
}

// The synthetic rows are an AR(1) chain in index order; from a random order
// the anchor order search must find that chain before the first step, and a
// resumed run must not search again (the checkpoint holds the order).
TEST(EvalE2E, CovarianceOrderSearchFindsTheChainFromARandomStartOnce) {
  const fs::path dir = fresh_dir("covariance_order_search");
  const fs::path plain_dir = fresh_dir("covariance_random_start");
  const std::string searched =
      covariance_config(dir, "laplex_ou", ", anchors: random, order_search_images: 512");
  const auto r = testing::run_command(kTrain + " --config " + searched);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  // The search is announced before it starts (it takes most of a minute at
  // 3·10^6 dimensions), then its result follows.
  const std::size_t announced = r.output.find("anchor order search on 512 training images of 64 dimensions...");
  const std::size_t finished = r.output.find("anchor order search on 512 training images: path cost");
  ASSERT_NE(announced, std::string::npos) << r.output;
  ASSERT_NE(finished, std::string::npos) << r.output;
  EXPECT_LT(announced, finished);
  const auto c = train::read_checkpoint((dir / "run_laplex_ou/checkpoints/step-00000064").string(), false);
  const auto t = c.model.at("model.t").to_vector<float>();
  bool ascending = true, descending = true;
  for (std::size_t i = 1; i < t.size(); ++i) {
    ascending = ascending && t[i] > t[i - 1];
    descending = descending && t[i] < t[i - 1];
  }
  EXPECT_TRUE(ascending || descending);

  const auto plain = testing::run_command(
      kTrain + " --config " + covariance_config(plain_dir, "laplex_ou", ", anchors: random"));
  ASSERT_EQ(plain.exit_code, 0) << plain.output;
  EXPECT_EQ(plain.output.find("anchor order search"), std::string::npos);
  const double with_search = last_test_value(dir / "run_laplex_ou", "bpd");
  const double without = last_test_value(plain_dir / "run_laplex_ou", "bpd");
  EXPECT_LT(with_search, without - 0.3) << with_search << " vs " << without;

  const fs::path resumed = dir / "resumed";
  const auto again = testing::run_command(kTrain + " --config " + searched + " --set run_dir=" +
                                          resumed.string() + " --resume " +
                                          (dir / "run_laplex_ou/checkpoints/step-00000032").string());
  ASSERT_EQ(again.exit_code, 0) << again.output;
  EXPECT_EQ(again.output.find("anchor order search"), std::string::npos) << again.output;
  const auto b = train::read_checkpoint((resumed / "checkpoints/step-00000064").string(), false);
  for (const auto& [name, tensor] : c.model)
    EXPECT_EQ(tensor.to_vector<float>(), b.model.at(name).to_vector<float>()) << name;

  // A laplex_ou inside a sequential is searched too (the key is never ignored).
  const fs::path nested = dir / "nested.yaml";
  std::ofstream(nested) << "seed: 5\ndevice: cpu\ntask: covariance\nrun_dir: " << (dir / "nested").string()
                        << R"(
data: {dataset: synthetic, synthetic_train: 512, synthetic_test: 128, synthetic_features: 64, batch_size: 32}
model:
  type: sequential
  layers:
    - {type: laplex_ou, dims: 64, anchors: random, order_search_images: 100}
optimizer: {type: adam, lr: 0.02}
train: {epochs: 1}
)";
  const auto inside = testing::run_command(kTrain + " --config " + nested.string());
  ASSERT_EQ(inside.exit_code, 0) << inside.output;
  EXPECT_NE(inside.output.find("anchor order search on 100 training images:"), std::string::npos)
      << inside.output;

  // A search that cannot read 2 images is refused with the other input
  // checks: exit 2, and no run_dir is made.
  const fs::path too_few = dir / "too_few.yaml";
  std::ofstream(too_few) << "seed: 5\ndevice: cpu\ntask: covariance\nrun_dir: " << (dir / "too_few").string()
                         << R"(
data: {dataset: synthetic, synthetic_train: 512, synthetic_test: 128, synthetic_features: 64, batch_size: 32}
model: {type: laplex_ou, dims: 64, anchors: random, order_search_images: 1}
optimizer: {type: adam, lr: 0.02}
train: {epochs: 1}
)";
  const auto refused = testing::run_command(kTrain + " --config " + too_few.string());
  EXPECT_EQ(refused.exit_code, 2) << refused.output;
  EXPECT_NE(refused.output.find("model.order_search_images: the search needs at least 2 training images"),
            std::string::npos)
      << refused.output;
  EXPECT_FALSE(fs::exists(dir / "too_few"));
}

TEST(EvalE2E, ExplainDrawsTheLaplexLayersThatSeeImages) {
  const fs::path dir = fresh_dir("explain");
  // 8x8 one-channel "images" as an .npy data set, pixels into a LAPLEX head.
  Generator rng(13);
  std::vector<std::int64_t> labels(64);
  for (std::int64_t i = 0; i < 64; ++i) labels[i] = i % 3;
  for (const std::string split : {"train", "test"}) {
    data::write_npy((dir / (split + "_inputs.npy")).string(), rand({64, 1, 8, 8}, rng));
    data::write_npy((dir / (split + "_labels.npy")).string(), Tensor::from_vector(labels, {64}));
  }
  const fs::path config = dir / "config.yaml";
  std::ofstream(config) << "device: cpu\nrun_dir: " << (dir / "run").string() << "\n"
                        << "data: {dataset: npy, root: " << dir.string()
                        << ", batch_size: 16, random_crop: 1, hflip: true, mean: [0.5], std: [0.3]}\n"
                        << R"(model:
  type: sequential
  layers:
    - {type: flatten}
    - {type: laplex, in: 64, out: 3, heads: 2, phased: true}
train: {epochs: 1}
)";
  ASSERT_EQ(testing::run_command(kTrain + " --config " + config.string()).exit_code, 0);
  const auto r = testing::run_command(kEval + " --checkpoint " + (dir / "run").string() +
                                      " --explain " + (dir / "pictures").string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  for (const char* name : {"model.1.s.png", "model.1.rows.png", "model.1.row0.png", "model.1.row2.png"}) {
    const auto image = data::read_image((dir / "pictures" / name).string());
    EXPECT_GT(image.width, 8) << name;
    EXPECT_EQ(image.channels, 3) << name;
  }

  // All or nothing: a directory where one picture goes fails the command
  // before any picture is moved in (s.png and row0, row1 were written),
  // and --outputs given with it is not written either (it was, exit 2).
  const fs::path again = dir / "again";
  fs::create_directories(again / "model.1.row1.png");
  Generator inputs_rng(17);
  data::write_npy((dir / "x.npy").string(), rand({4, 1, 8, 8}, inputs_rng));
  const std::string explain_again = kEval + " --checkpoint " + (dir / "run").string() +
                                    " --explain " + again.string();
  auto bad = testing::run_command(explain_again + " --inputs " + (dir / "x.npy").string() +
                                  " --outputs " + (dir / "y.npy").string() + " 2>&1");
  EXPECT_EQ(bad.exit_code, 2) << bad.output;
  EXPECT_NE(bad.output.find("model.1.row1.png: is a directory"), std::string::npos) << bad.output;
  EXPECT_FALSE(fs::exists(dir / "y.npy"));
  std::vector<std::string> left;
  for (const auto& entry : fs::directory_iterator(dir))
    if (entry.path().filename().string().find("explain-tmp") != std::string::npos)
      left.push_back(entry.path().string());
  EXPECT_TRUE(left.empty()) << left.front();
  std::vector<std::string> inside;
  for (const auto& entry : fs::directory_iterator(again)) inside.push_back(entry.path().string());
  EXPECT_EQ(inside, std::vector<std::string>{(again / "model.1.row1.png").string()});
  // Into an existing folder the pictures replace their old versions.
  fs::remove(again / "model.1.row1.png");
  const auto good = testing::run_command(explain_again + " --inputs " + (dir / "x.npy").string() +
                                         " --outputs " + (dir / "y.npy").string());
  ASSERT_EQ(good.exit_code, 0) << good.output;
  EXPECT_TRUE(fs::exists(again / "model.1.rows.png"));
  EXPECT_EQ(data::read_npy((dir / "y.npy").string()).shape(), (Shape{4, 3}));
  // A 1-D array is not rows: it gave one row of outputs for 64 values.
  data::write_npy((dir / "flat.npy").string(), rand({64}, inputs_rng));
  bad = testing::run_command(kEval + " --checkpoint " + (dir / "run").string() + " --inputs " +
                             (dir / "flat.npy").string() + " --outputs " +
                             (dir / "flat_out.npy").string() + " 2>&1");
  EXPECT_EQ(bad.exit_code, 2) << bad.output;
  EXPECT_NE(bad.output.find("flat.npy: expected an array of at least one row"), std::string::npos)
      << bad.output;
  EXPECT_FALSE(fs::exists(dir / "flat_out.npy"));
}

}  // namespace
}  // namespace laplex
