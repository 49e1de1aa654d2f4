#include "apps/train/train_config.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>

#include "config/config_node.h"
#include "core/device.h"
#include "core/printable.h"
#include "config/yaml_aliases.h"

namespace laplex::train {

using config::ConfigNode;

namespace {

std::vector<std::string> split_path(const std::string& path) {
  std::vector<std::string> parts;
  std::string part;
  for (char c : path) {
    if (c == '.') {
      parts.push_back(part);
      part.clear();
    } else {
      part += c;
    }
  }
  parts.push_back(part);
  return parts;
}

bool is_index(const std::string& s) {
  return !s.empty() && s.size() < 9 && s.find_first_not_of("0123456789") == std::string::npos;
}

DataConfig parse_data(ConfigNode node) {
  DataConfig d;
  d.dataset = node.get_choice("dataset", {"fashion_mnist", "synthetic", "npy", "image_folder", "photos"},
                              d.dataset);
  d.root = node.get_or<std::string>("root", d.root);
  d.batch_size = node.get_or<std::int64_t>("batch_size", d.batch_size);
  d.eval_batch_size = node.get_or<std::int64_t>("eval_batch_size", d.eval_batch_size);
  d.shuffle = node.get_or<bool>("shuffle", d.shuffle);
  d.mean = node.get_or<std::vector<double>>("mean", {});
  d.std = node.get_or<std::vector<double>>("std", {});
  d.random_crop = node.get_or<std::int64_t>("random_crop", 0);
  d.hflip = node.get_or<bool>("hflip", false);
  if (d.random_crop < 0 || d.random_crop > 4096)
    node.fail("random_crop", "must be in [0, 4096] (padding in pixels; 0: off)");
  d.synthetic_train = node.get_or<std::int64_t>("synthetic_train", d.synthetic_train);
  d.synthetic_test = node.get_or<std::int64_t>("synthetic_test", d.synthetic_test);
  d.synthetic_features = node.get_or<std::int64_t>("synthetic_features", d.synthetic_features);
  d.synthetic_classes = node.get_or<std::int64_t>("synthetic_classes", d.synthetic_classes);
  d.channels = node.get_or<std::int64_t>("channels", d.channels);
  if (node.has("crop")) {
    const auto crop = node.get<std::vector<std::int64_t>>("crop");
    if (crop.size() != 2 || crop[0] < 1 || crop[1] < 1)
      node.fail("crop", "expected [height, width], both >= 1");
    d.crop_height = crop[0];
    d.crop_width = crop[1];
  }
  d.train_crops = node.get_or<std::int64_t>("train_crops", d.train_crops);
  d.test_crops = node.get_or<std::int64_t>("test_crops", d.test_crops);
  d.test_every = node.get_or<std::int64_t>("test_every", d.test_every);
  if (d.channels != 0 && d.channels != 1 && d.channels != 3) node.fail("channels", "must be 0, 1 or 3");
  if (d.train_crops < 1) node.fail("train_crops", "must be >= 1");
  if (d.test_crops < 1) node.fail("test_crops", "must be >= 1");
  if (d.test_every < 2) node.fail("test_every", "must be >= 2");
  constexpr std::int64_t kMaxBatch = std::int64_t{1} << 31;
  if (d.batch_size < 1 || d.batch_size > kMaxBatch) node.fail("batch_size", "must be in [1, 2^31]");
  if (d.eval_batch_size < 1 || d.eval_batch_size > kMaxBatch)
    node.fail("eval_batch_size", "must be in [1, 2^31]");
  if (d.synthetic_train < 1 || d.synthetic_test < 1)
    node.fail(d.synthetic_train < 1 ? "synthetic_train" : "synthetic_test", "must be >= 1");
  if (d.synthetic_features < 1) node.fail("synthetic_features", "must be >= 1");
  if (d.synthetic_classes < 2) node.fail("synthetic_classes", "must be >= 2");
  // Each at most 2^31, so examples x features (allocated up front) cannot
  // pass 2^63; what does not fit memory is then refused when allocated.
  for (const auto& [key, value] :
       {std::pair<const char*, std::int64_t>{"synthetic_train", d.synthetic_train},
        {"synthetic_test", d.synthetic_test},
        {"synthetic_features", d.synthetic_features},
        {"synthetic_classes", d.synthetic_classes}})
    if (value > (std::int64_t{1} << 31)) node.fail(key, "must be <= 2^31");
  if (d.train_crops > (std::int64_t{1} << 31) || d.test_crops > (std::int64_t{1} << 31))
    node.fail(d.train_crops > (std::int64_t{1} << 31) ? "train_crops" : "test_crops",
              "must be <= 2^31");
  for (double m : d.mean)
    if (!std::isfinite(m)) node.fail("mean", "entries must be finite numbers");
  for (double s : d.std)
    if (!(s > 0 && std::isfinite(s))) node.fail("std", "entries must be finite numbers > 0");
  if (d.mean.size() != d.std.size()) node.fail("std", "must have as many entries as mean");
  node.finish();
  return d;
}

// A key of another optimizer type or schedule kind is refused, not ignored:
// `momentum: 0.9` under adam, or `gamma` under a cosine schedule, would
// train without what the config asks for. A key set to null counts as
// absent, so `--set optimizer.momentum=null` drops one that a config file
// holds when another type is chosen on the command line.
struct KeyOwner {
  std::string key;
  std::vector<std::string> kinds;  // the kinds it applies to
};

void refuse_keys_of_other_kinds(const ConfigNode& node, const std::string& kind_key,
                                const std::string& kind, const std::vector<KeyOwner>& owners) {
  for (const auto& [key, kinds] : owners) {
    if (!node.has(key) || std::find(kinds.begin(), kinds.end(), kind) != kinds.end()) continue;
    std::string names;
    for (const auto& k : kinds) names += (names.empty() ? "" : " and ") + k;
    node.fail(key, "applies to " + names + " only, not to " + kind_key + " " + kind +
                       " (remove it, or --set " + node.path() + "." + key + "=null)");
  }
}

OptimizerConfig parse_optimizer(ConfigNode node) {
  OptimizerConfig o;
  o.type = node.get_choice("type", {"sgd", "adam", "adamw"}, o.type);
  refuse_keys_of_other_kinds(node, "type", o.type,
                             {{"momentum", {"sgd"}},
                              {"nesterov", {"sgd"}},
                              {"betas", {"adam", "adamw"}},
                              {"eps", {"adam", "adamw"}}});
  o.lr = node.get_or<double>("lr", o.lr);
  o.weight_decay = node.get_or<double>("weight_decay", o.type == "adamw" ? 0.01 : 0.0);
  o.momentum = node.get_or<double>("momentum", o.momentum);
  o.nesterov = node.get_or<bool>("nesterov", o.nesterov);
  const auto betas = node.get_or<std::vector<double>>("betas", {o.beta1, o.beta2});
  if (betas.size() != 2) node.fail("betas", "expected two numbers [beta1, beta2]");
  o.beta1 = betas[0];
  o.beta2 = betas[1];
  o.eps = node.get_or<double>("eps", o.eps);
  o.clip_grad_norm = node.get_or<double>("clip_grad_norm", 0.0);
  if (!(o.lr >= 0 && std::isfinite(o.lr))) node.fail("lr", "must be a finite number >= 0");
  if (!(o.weight_decay >= 0 && std::isfinite(o.weight_decay)))
    node.fail("weight_decay", "must be a finite number >= 0");
  if (!(o.momentum >= 0 && std::isfinite(o.momentum)))
    node.fail("momentum", "must be a finite number >= 0");
  if (!(o.beta1 >= 0 && o.beta1 < 1 && o.beta2 >= 0 && o.beta2 < 1))
    node.fail("betas", "both must be in [0, 1)");
  // Adam divides by sqrt(v) + eps in float32: an eps that float32 rounds to
  // 0 (or to a subnormal) gives 0/0 on a parameter whose gradient is 0.
  if (!(o.eps >= std::numeric_limits<float>::min() && std::isfinite(o.eps)))
    node.fail("eps", "must be a finite number >= 1.2e-38 (float32's smallest normal number)");
  if (!(o.clip_grad_norm >= 0 && std::isfinite(o.clip_grad_norm)))
    node.fail("clip_grad_norm", "must be a finite number >= 0 (0: off)");
  for (auto& g : node.children("groups")) {
    optim::GroupRule rule;
    rule.name = g.get<std::string>("name");
    rule.patterns = g.get<std::vector<std::string>>("patterns");
    if (g.has("lr")) rule.lr = g.get<double>("lr");
    if (g.has("weight_decay")) rule.weight_decay = g.get<double>("weight_decay");
    if (rule.lr && !(*rule.lr >= 0 && std::isfinite(*rule.lr)))
      g.fail("lr", "must be a finite number >= 0");
    if (rule.weight_decay && !(*rule.weight_decay >= 0 && std::isfinite(*rule.weight_decay)))
      g.fail("weight_decay", "must be a finite number >= 0");
    rule.float64_master = g.get_choice("master_weights", {"none", "float64"}, "none") == "float64";
    g.accept("lr");
    g.accept("weight_decay");
    g.finish();
    o.groups.push_back(rule);
  }
  node.finish();
  return o;
}

optim::Schedule parse_schedule(ConfigNode node) {
  optim::Schedule s;
  s.kind = node.get_choice("kind", {"constant", "step", "cosine"}, s.kind);
  refuse_keys_of_other_kinds(node, "kind", s.kind,
                             {{"step_size", {"step"}},
                              {"gamma", {"step"}},
                              {"total_steps", {"cosine"}},
                              {"min_factor", {"cosine"}}});
  s.warmup_steps = node.get_or<std::int64_t>("warmup_steps", 0);
  s.warmup_start = node.get_or<double>("warmup_start", 0.0);
  s.step_size = node.get_or<std::int64_t>("step_size", 1);
  s.gamma = node.get_or<double>("gamma", 0.1);
  s.total_steps = node.get_or<std::int64_t>("total_steps", 0);  // 0: filled from the run length
  s.min_factor = node.get_or<double>("min_factor", 0.0);
  if (s.warmup_steps < 0) node.fail("warmup_steps", "must be >= 0");
  if (!(s.warmup_start >= 0 && std::isfinite(s.warmup_start)))
    node.fail("warmup_start", "must be a finite number >= 0");
  if (s.step_size < 1) node.fail("step_size", "must be >= 1");
  if (!(s.gamma > 0 && std::isfinite(s.gamma))) node.fail("gamma", "must be a finite number > 0");
  if (s.total_steps < 0) node.fail("total_steps", "must be >= 0 (0: the run's length)");
  if (!(s.min_factor >= 0 && std::isfinite(s.min_factor)))
    node.fail("min_factor", "must be a finite number >= 0");
  node.finish();
  return s;
}

LoopConfig parse_loop(ConfigNode node) {
  LoopConfig l;
  l.epochs = node.get_or<std::int64_t>("epochs", l.epochs);
  l.max_steps = node.get_or<std::int64_t>("max_steps", 0);
  l.log_every = node.get_or<std::int64_t>("log_every", l.log_every);
  l.checkpoint_every = node.get_or<std::int64_t>("checkpoint_every", 0);
  const std::int64_t keep_last = node.get_or<std::int64_t>("keep_last", l.keep_last);
  l.label_smoothing = node.get_or<double>("label_smoothing", 0.0);
  // Steps are counted in int64 (epochs x batches an epoch): 2^31 epochs of
  // 2^31 batches still fit.
  if (l.epochs < 1 || l.epochs > (std::int64_t{1} << 31)) node.fail("epochs", "must be in [1, 2^31]");
  if (l.max_steps < 0) node.fail("max_steps", "must be >= 0 (0: no limit)");
  if (l.log_every < 1) node.fail("log_every", "must be >= 1");
  if (l.checkpoint_every < 0) node.fail("checkpoint_every", "must be >= 0 (0: every epoch)");
  if (keep_last < 0 || keep_last > 1000000)
    node.fail("keep_last", "must be in [0, 1000000] (0: keep every checkpoint)");
  l.keep_last = static_cast<int>(keep_last);
  if (!(l.label_smoothing >= 0 && l.label_smoothing < 1))
    node.fail("label_smoothing", "must be in [0, 1)");
  node.finish();
  return l;
}

}  // namespace

std::string apply_override(YAML::Node& root, const std::string& assignment) {
  const auto eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0)
    throw UsageError("--set " + assignment + ": expected key=value (e.g. optimizer.lr=0.01)");
  const std::string key = assignment.substr(0, eq);
  YAML::Node value;
  try {
    config::check_yaml_aliases(assignment.substr(eq + 1), "--set " + assignment, false);
    value = YAML::Load(assignment.substr(eq + 1));
    config::expand_merge_keys(value, "--set " + assignment, false);
  } catch (const YAML::Exception& e) {
    throw UsageError("--set " + assignment + ": value is not valid YAML");
  }
  const auto parts = split_path(key);
  // yaml-cpp nodes are handles: walking with reset() keeps writes in `root`.
  YAML::Node node = root;
  std::string label;  // the path as ConfigNode names it: list items as [i]
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const std::string& part = parts[i];
    if (part.empty()) throw UsageError("--set " + assignment + ": empty key component");
    const bool last = i + 1 == parts.size();
    if (node.IsScalar())
      throw UsageError("--set " + assignment + ": '" + parts[i - 1] +
                       "' holds a value, not a mapping or list");
    if (node.IsSequence()) {
      if (!is_index(part) || std::stoul(part) >= node.size())
        throw UsageError("--set " + assignment + ": '" + part + "' is not an index of that list");
      label += "[" + part + "]";
      if (last) {
        node[std::stoul(part)] = value;
        return label;
      }
      YAML::Node next = node[std::stoul(part)];
      node.reset(next);
    } else {
      label += (label.empty() ? "" : ".") + part;
      if (last) {
        node[part] = value;
        return label;
      }
      if (!node[part] || node[part].IsNull()) node[part] = YAML::Node(YAML::NodeType::Map);
      YAML::Node next = node[part];
      node.reset(next);
    }
  }
  return label;
}

TrainConfig parse_train_config(const YAML::Node& document, const std::string& file,
                               const config::ConfigOverrides& overrides) {
  TrainConfig c;
  c.file = file;
  c.overrides = overrides;
  c.yaml = YAML::Clone(document);
  // Validate the original nodes: clones lose the line marks that errors cite.
  ConfigNode root(document, file, "", overrides);
  const std::string stem = std::filesystem::path(file).stem().string();
  c.run_dir = root.get_or<std::string>("run_dir", "runs/" + stem);
  c.device = root.get_or<std::string>("device", c.device);
  if (c.run_dir.empty()) root.fail("run_dir", "must not be empty");
  if (!Device::is_name(c.device))
    root.fail("device", "'" + printable(c.device) + "' is not a device (auto, cpu, cuda or cuda:N)");
  const std::int64_t seed = root.get_or<std::int64_t>("seed", 0);
  if (seed < 0) root.fail("seed", "must be >= 0");
  c.seed = static_cast<std::uint64_t>(seed);
  c.task = root.get_choice("task", {"classification", "covariance"}, c.task);
  c.data = parse_data(root.child("data"));
  if (!root.has("model")) root.fail("model", "missing (expected the model's layers)");
  c.model = document["model"];
  root.accept("model");
  c.optimizer = parse_optimizer(root.child("optimizer"));
  c.schedule = parse_schedule(root.child("schedule"));
  c.loop = parse_loop(root.child("train"));
  root.finish();
  return c;
}

TrainConfig load_train_config(const std::string& path, const std::vector<std::string>& overrides) {
  YAML::Node document = config::load_yaml_file(path);
  if (!document.IsMap()) throw UsageError(path + ": expected a YAML mapping at the top level");
  config::ConfigOverrides applied;
  for (const auto& o : overrides) applied[apply_override(document, o)] = "--set " + o;
  return parse_train_config(document, path, applied);
}

std::string to_yaml_text(const YAML::Node& node) {
  YAML::Emitter out;
  out << node;
  return std::string(out.c_str()) + "\n";
}

}  // namespace laplex::train
