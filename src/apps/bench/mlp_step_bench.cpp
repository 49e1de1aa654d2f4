// laplex-bench mlp-step: one training step (forward, cross-entropy, backward,
// SGD with momentum) of a 784-256-10 ReLU MLP at batch 128, next to the same
// step in PyTorch (scripts/bench_mlp_torch.py) with the same thread count,
// measured in the same run.
#include <omp.h>

#include "apps/bench/bench.h"
#include "apps/cli.h"
#include "core/ops/elementwise.h"
#include "core/ops/loss.h"
#include "core/ops/matmul.h"
#include "core/random.h"
#include "optim/sgd.h"

#if LAPLEX_WITH_CUDA
#include "core/cuda/cuda_context.h"
#endif

namespace laplex::bench {

namespace {

struct MlpOptions {
  std::string device = "cpu";
  int steps = 200;
  int threads = 0;  // 0: OpenMP's default
  bool json = false;
  bool peer = true;
  std::string python = "/usr/bin/python3";
};

int run(const MlpOptions& o) {
  const Device device = usable_device(o.device);
  if (o.threads > 0) omp_set_num_threads(o.threads);
  const int threads = omp_get_max_threads();
  Generator g(0);
  auto param = [&](const Shape& shape, double scale) {
    Tensor t = randn(shape, g, DType::f32, device);
    t.copy_(mul(t, scale));
    t.set_requires_grad(true);
    return t;
  };
  Tensor w1 = param({256, 784}, 0.035), b1 = param({256}, 0.01);
  Tensor w2 = param({10, 256}, 0.06), b2 = param({10}, 0.01);
  optim::Sgd sgd({{{w1, b1, w2, b2}, 0.01, 0.0, "all", {}}}, {0.9, false});
  const Tensor x = randn({128, 784}, g, DType::f32, device);
  std::vector<std::int64_t> labels(128);
  for (int i = 0; i < 128; ++i) labels[i] = (i * 7) % 10;
  const Tensor y = Tensor::from_vector(labels, {128}, device);

  std::function<void()> sync;
#if LAPLEX_WITH_CUDA
  if (device.is_cuda()) sync = [device] { cuda::synchronize(device.index); };
#endif
  const double ours = median_ms(
      [&] {
        sgd.zero_grad();
        cross_entropy(linear(relu(linear(x, w1, b1)), w2, b2), y).backward();
        sgd.step();
      },
      o.steps, 20, sync);

  nlohmann::json row = {{"op", "mlp-step"},       {"model", "784-256-10 relu"},
                        {"batch", 128},           {"device", device.str()},
                        {"threads", threads},     {"laplex_ms", ours},
                        {"laplex_images_per_s", 128.0 / ours * 1e3}};
  const double flops = 3.0 * 2.0 * 128.0 * (784.0 * 256.0 + 256.0 * 10.0);
  row["laplex_gflops"] = flops / ours / 1e6;
  row["torch_ms"] = nullptr;
  if (o.peer && device.is_cpu()) {
    const nlohmann::json peer = run_python_peer(
        o.python, "bench_mlp_torch.py", {std::to_string(threads), std::to_string(o.steps)});
    if (!peer.is_null()) {
      row["torch_ms"] = peer["ms_per_step"];
      row["torch_version"] = peer["torch"];
      row["ratio_vs_torch"] = ours / peer["ms_per_step"].get<double>();
    }
  }
  print_rows({row}, {"device", "threads", "laplex_ms", "torch_ms", "ratio_vs_torch",
                     "laplex_images_per_s"},
             o.json);
  return 0;
}

const BenchRegistration registration(
    "mlp-step", "one SGD step of a 784-256-10 MLP at batch 128, vs PyTorch",
    [](CLI::App& cmd) -> std::function<int()> {
      auto o = std::make_shared<MlpOptions>();
      cmd.add_option("--device", o->device, "cpu, cuda or cuda:N");
      cmd.add_option("--steps", o->steps, "timed steps (median reported)")
          ->check(CLI::Range(1, 1 << 20));
      cmd.add_option("--threads", o->threads, "CPU threads for both (0: default)")
          ->check(CLI::Range(0, kMaxBenchThreads));
      cmd.add_option("--python", o->python,
                     "python with torch, for the peer (run as is, without a shell)")
          ->check(apps::non_empty());
      cmd.add_flag("!--no-peer", o->peer, "skip the PyTorch peer");
      cmd.add_flag("--json", o->json, "JSON Lines output");
      return [o] { return run(*o); };
    });

}  // namespace

}  // namespace laplex::bench
