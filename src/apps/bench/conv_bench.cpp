// laplex-bench conv: forward + backward of the layers of the Fashion-MNIST
// CNN (configs/fashion_mnist_cnn_*.yaml) at batch B, and one training step
// of the whole CNN with a dense head (forward, cross-entropy, backward), next
// to the same computations in PyTorch (scripts/bench_conv_torch.py, same
// thread count) measured in the same run.
#include <omp.h>

#include <map>

#include "apps/bench/bench.h"
#include "apps/cli.h"
#include "apps/bench/peak_memory.h"
#include "core/ops/elementwise.h"
#include "core/ops/loss.h"
#include "core/ops/matmul.h"
#include "core/ops/view.h"
#include "core/random.h"
#include "layers/conv/conv2d.h"
#include "layers/conv/pool.h"
#include "layers/norm/batchnorm.h"

#if LAPLEX_WITH_CUDA
#include "core/cuda/cuda_context.h"
#endif

namespace laplex::bench {

namespace {

struct ConvOptions {
  std::string device = "cpu";
  int batch = 128;
  int repeats = 20;
  int threads = 0;  // 0: OpenMP's default
  bool json = false;
  bool peer = true;
  std::string python = "/usr/bin/python3";
};

struct Case {
  std::string name, shape;
  std::function<void()> step;
};

// Peak bytes per image of a CPU run: the inputs with their gradients
// (64 k floats) and the CNN step's activations, gradients and im2col
// buffers (about 370 k) come to 1.7 MB; peak RSS grew by 0.9-1.3 MB per
// image from batch 64 to 2048 (--no-peer). The PyTorch peer runs in its
// own process at the same batch while the inputs are resident. Rounded up.
constexpr double kBytesPerImage = double(2 << 20);

// A batch that cannot fit is refused before anything is allocated:
// --batch 1048576 reached several GiB and ended in "out of memory" (exit 1).
// On a GPU the same bound stands in (cuDNN's workspaces replace im2col's).
void check_batch_fits(std::int64_t batch, const Device& device) {
  const double need = kBytesPerImage * static_cast<double>(batch);
  if (!fits_on_device(need, device))
    throw UsageError("--batch: " + std::to_string(batch) + " images need " +
                     device_need_text(need, device));
}

Tensor input(const Shape& shape, Generator& g, const Device& device, bool grad) {
  Tensor t = randn(shape, g, DType::f32, device);
  t.set_requires_grad(grad);
  return t;
}

int run(const ConvOptions& o) {
  const Device device = usable_device(o.device);
  check_batch_fits(o.batch, device);
  if (o.threads > 0) omp_set_num_threads(o.threads);
  const int threads = omp_get_max_threads();
  const std::int64_t b = o.batch;
  Generator g(0);
  const Window2d same{3, 1, 1}, halve{2, 2, 0};

  Conv2d conv1({1, 32, same, true}, 1), conv2({32, 64, same, true}, 2);
  BatchNorm bn1({32, 2, 1e-5, 0.1, true}), bn2({64, 2, 1e-5, 0.1, true});
  for (Module* m : std::initializer_list<Module*>{&conv1, &conv2, &bn1, &bn2}) m->to(device);
  Tensor head_w = input({10, 3136}, g, device, true), head_b = input({10}, g, device, true);

  const Tensor image = input({b, 1, 28, 28}, g, device, false);
  const Tensor features = input({b, 32, 14, 14}, g, device, true);
  const Tensor maps = input({b, 32, 28, 28}, g, device, true);
  std::vector<std::int64_t> label_values(b);
  for (std::int64_t i = 0; i < b; ++i) label_values[i] = (i * 7) % 10;
  const Tensor labels = Tensor::from_vector(label_values, {b}, device);
  auto backward_ones = [](const Tensor& y) { y.backward(Tensor::ones(y.shape(), y.dtype(), y.device())); };
  auto block = [&](const Tensor& x, Conv2d& conv, BatchNorm& bn) {
    return max_pool2d(relu(bn.forward(conv.forward(x))), halve);
  };

  const std::vector<Case> cases = {
      {"conv1", "1->32 k3 28x28", [&] { backward_ones(conv1.forward(image)); }},
      {"conv2", "32->64 k3 14x14", [&] { backward_ones(conv2.forward(features)); }},
      {"batchnorm", "32 x 28x28", [&] { backward_ones(bn1.forward(maps)); }},
      {"maxpool", "32 x 28x28 k2", [&] { backward_ones(max_pool2d(maps, halve)); }},
      {"cnn-step", "2 blocks + dense head",
       [&] {
         const Tensor h = block(block(image, conv1, bn1), conv2, bn2);
         cross_entropy(linear(reshape(h, {b, 3136}), head_w, head_b), labels).backward();
       }},
  };

  std::function<void()> sync;
#if LAPLEX_WITH_CUDA
  if (device.is_cuda()) sync = [device] { cuda::synchronize(device.index); };
#endif
  std::map<std::string, double> peer;
  std::string peer_version;
  if (o.peer && device.is_cpu()) {
    const nlohmann::json parsed =
        run_python_peer(o.python, "bench_conv_torch.py",
                        {std::to_string(threads), std::to_string(o.repeats), std::to_string(b)});
    if (!parsed.is_null()) {
      for (const auto& [name, ms] : parsed["ms"].items()) peer[name] = ms.get<double>();
      peer_version = parsed["torch"].get<std::string>();
    }
  }

  std::vector<nlohmann::json> rows;
  for (const Case& c : cases) {
    const double ours = median_ms(c.step, o.repeats, 3, sync);
    nlohmann::json row = {{"op", c.name},       {"shape", c.shape},  {"batch", b},
                          {"device", device.str()}, {"threads", threads}, {"laplex_ms", ours},
                          {"torch_ms", nullptr}};
    if (peer.count(c.name)) {
      row["torch_ms"] = peer[c.name];
      row["torch_version"] = peer_version;
      row["ratio_vs_torch"] = ours / peer[c.name];
    }
    rows.push_back(row);
  }
  print_rows(rows, {"op", "shape", "batch", "device", "threads", "laplex_ms", "torch_ms",
                    "ratio_vs_torch"},
             o.json);
  return 0;
}

// The estimate behind check_batch_fits is a CPU measurement: a GPU batch
// that passes it and still meets a full device is the same usage error,
// not a failure of the run.
int run_or_refuse(const ConvOptions& o) {
  try {
    return run(o);
  } catch (const OutOfMemory& e) {
    throw UsageError("--batch: " + std::to_string(o.batch) + " images do not fit in the memory of " +
                     o.device + " (" + e.what() + "): choose a smaller batch");
  }
}

const BenchRegistration registration(
    "conv", "forward+backward of the Fashion-MNIST CNN's layers and one CNN step, vs PyTorch",
    [](CLI::App& cmd) -> std::function<int()> {
      auto o = std::make_shared<ConvOptions>();
      cmd.add_option("--device", o->device, "cpu, cuda or cuda:N");
      // Batch norm needs two values per channel; a thread count past what
      // the machine can start kills OpenMP's runtime, so both are bounded.
      cmd.add_option("--batch", o->batch, "images per batch (>= 2; on cpu ~2 MiB each must fit in 90% of MemAvailable)")
          ->check(CLI::Range(std::int64_t{2}, std::int64_t{1} << 20));
      cmd.add_option("--repeats", o->repeats, "timed repetitions (median reported)")
          ->check(CLI::Range(1, 1 << 20));
      cmd.add_option("--threads", o->threads, "CPU threads for both (0: default)")
          ->check(CLI::Range(0, kMaxBenchThreads));
      cmd.add_option("--python", o->python,
                     "python with torch, for the peer (run as is, without a shell)")
          ->check(apps::non_empty());
      cmd.add_flag("!--no-peer", o->peer, "skip the PyTorch peer");
      cmd.add_flag("--json", o->json, "JSON Lines output");
      return [o] { return run_or_refuse(*o); };
    });

}  // namespace

}  // namespace laplex::bench
