#pragma once
// The laplex-train configuration: one YAML file, validated as a whole (an
// unknown key or a wrong type is a UsageError naming file:line and key),
// with --set key=value overrides applied before validation.
#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <string>
#include <vector>

#include "config/config_node.h"
#include "optim/param_groups.h"
#include "optim/schedule.h"

namespace laplex::train {

struct DataConfig {
  // fashion_mnist | synthetic | npy | image_folder (classification);
  // fashion_mnist | synthetic | photos (covariance)
  std::string dataset = "fashion_mnist";
  std::string root = "/usr/share/datasets/fashion-mnist";
  std::int64_t batch_size = 128;
  std::int64_t eval_batch_size = 1000;
  bool shuffle = true;
  std::vector<double> mean, std; // per-channel normalisation; empty: none
  std::int64_t random_crop = 0;  // training augmentation: pad by this much, crop back (0: off)
  bool hflip = false;            // training augmentation: mirror half the images
  // synthetic: a generated classification problem, for tests and demos.
  std::int64_t synthetic_train = 2048, synthetic_test = 512, synthetic_features = 32,
               synthetic_classes = 4;
  std::int64_t channels = 0;  // image_folder / photos: 0 as stored (photos: 3), 1 grey, 3 RGB
  // photos: random crops of the photographs under root; whole photos are held
  // out for the test split (every test_every-th in sorted order).
  std::int64_t crop_height = 1000, crop_width = 1000;
  std::int64_t train_crops = 64, test_crops = 16, test_every = 4;
};

struct OptimizerConfig {
  std::string type = "adam";  // sgd | adam | adamw
  double lr = 1e-3;
  double weight_decay = 0.0;
  double momentum = 0.0;
  bool nesterov = false;
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
  double clip_grad_norm = 0.0;  // 0: off
  std::vector<optim::GroupRule> groups;
};

struct LoopConfig {
  std::int64_t epochs = 1;
  std::int64_t max_steps = 0;          // 0: no cap
  std::int64_t log_every = 50;
  std::int64_t checkpoint_every = 0;   // in steps; 0: at the end of every epoch
  int keep_last = 3;
  double label_smoothing = 0.0;
};

struct TrainConfig {
  std::string file;       // where it came from (for messages)
  config::ConfigOverrides overrides;  // keys set on the command line (for messages)
  YAML::Node yaml;        // the full document after overrides (embedded in checkpoints)
  std::string run_dir;
  std::string device = "auto";
  std::uint64_t seed = 0;
  std::string task = "classification";
  DataConfig data;
  YAML::Node model;       // built by the module registry
  OptimizerConfig optimizer;
  optim::Schedule schedule;
  LoopConfig loop;
};

// Applies `key=value` (dotted path; list items by index; value parsed as
// YAML) to the document and returns the key's path as messages name it
// ("model.layers[0].out"). UsageError for a malformed override.
std::string apply_override(YAML::Node& root, const std::string& assignment);

// Parses and validates. `file` labels messages, except about the keys in
// `overrides`, which cite their argument; run_dir defaults to
// runs/<file stem>.
TrainConfig parse_train_config(const YAML::Node& document, const std::string& file,
                               const config::ConfigOverrides& overrides = {});
TrainConfig load_train_config(const std::string& path, const std::vector<std::string>& overrides);

// The document as YAML text (what checkpoints embed).
std::string to_yaml_text(const YAML::Node& node);

}  // namespace laplex::train
