// laplex-bench matmul: laplex's matmul (engine dispatch, output allocation,
// autograd bookkeeping off) against a direct sgemm call (cblas or cuBLAS)
// into a preallocated buffer, same sizes, same threads, same run.
#include <cblas.h>

#include "apps/bench/bench.h"
#include "apps/bench/peak_memory.h"
#include "core/autograd/grad_mode.h"
#include "core/ops/matmul.h"
#include "core/random.h"

#if LAPLEX_WITH_CUDA
#include "core/cuda/cuda_context.h"
#endif

namespace laplex::bench {

namespace {

struct MatmulOptions {
  std::vector<std::int64_t> sizes = {256, 512, 1024, 2048};
  std::string device = "cpu";
  int repeats = 20;
  bool json = false;
};

double direct_sgemm_ms(const Tensor& a, const Tensor& b, const Tensor& c, int repeats) {
  const std::int64_t n = a.size(0);
  if (a.device().is_cpu()) {
    return median_ms(
        [&] {
          cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a.data<float>(), n,
                      b.data<float>(), n, 0.0f, c.data<float>(), n);
        },
        repeats, 2);
  }
#if LAPLEX_WITH_CUDA
  const int device = a.device().index;
  const float one = 1.0f, zero = 0.0f;
  return median_ms(
      [&] {
        cuda::check(cublasSgemm(cuda::cublas(device), CUBLAS_OP_N, CUBLAS_OP_N, n, n, n, &one,
                                b.data<float>(), n, a.data<float>(), n, &zero, c.data<float>(), n),
                    "cublasSgemm");
      },
      repeats, 2, [device] { cuda::synchronize(device); });
#else
  throw UsageError("--device cuda: laplex was built without CUDA");
#endif
}

// sgemm (cblas and cuBLAS) takes int sizes; n * n then fits 63 bits too.
constexpr std::int64_t kMaxSize = (std::int64_t{1} << 31) - 1;

// A row holds A, B and C, and each timed laplex matmul allocates its result.
double row_bytes(std::int64_t n) {
  return 4.0 * 4.0 * static_cast<double>(n) * static_cast<double>(n);
}

// Every size is checked before the first row runs: a size that cannot run
// is a usage error, not an out-of-memory failure (or the kernel's OOM
// killer) after minutes of rows.
void check_sizes(const std::vector<std::int64_t>& sizes, const Device& device) {
  for (const std::int64_t n : sizes) {
    if (n < 1 || n > kMaxSize)
      throw UsageError("--sizes: expected sizes in [1, " + std::to_string(kMaxSize) + "], got " +
                       std::to_string(n));
    if (!fits_on_device(row_bytes(n), device))
      throw UsageError("--sizes: n = " + std::to_string(n) + " needs " +
                       device_need_text(row_bytes(n), device));
  }
}

int run(const MatmulOptions& o) {
  const Device device = usable_device(o.device);
  check_sizes(o.sizes, device);
  NoGradGuard no_grad;
  std::vector<nlohmann::json> rows;
  for (std::int64_t n : o.sizes) {
    Generator g(1);
    const Tensor a = randn({n, n}, g, DType::f32, device), b = randn({n, n}, g, DType::f32, device);
    const Tensor c = Tensor::empty({n, n}, DType::f32, device);
    std::function<void()> sync;
#if LAPLEX_WITH_CUDA
    if (device.is_cuda()) sync = [device] { cuda::synchronize(device.index); };
#endif
    const double ours = median_ms([&] { matmul(a, b); }, o.repeats, 2, sync);
    const double peer = direct_sgemm_ms(a, b, c, o.repeats);
    const double flops = 2.0 * n * n * n;
    rows.push_back({{"op", "matmul"},
                    {"m", n},
                    {"n", n},
                    {"k", n},
                    {"device", device.str()},
                    {"laplex_ms", ours},
                    {"sgemm_ms", peer},
                    {"laplex_gflops", flops / ours / 1e6},
                    {"sgemm_gflops", flops / peer / 1e6},
                    {"overhead", ours / peer - 1.0}});
  }
  print_rows(rows, {"m", "device", "laplex_ms", "sgemm_ms", "laplex_gflops", "sgemm_gflops", "overhead"},
             o.json);
  return 0;
}

// A size that passes check_sizes and still meets a full device (its
// memory already taken by another process) is the same usage error.
int run_or_refuse(const MatmulOptions& o) {
  try {
    return run(o);
  } catch (const OutOfMemory& e) {
    throw UsageError(std::string("--sizes: a size does not fit in the memory of ") + o.device + " (" +
                     e.what() + "): choose smaller sizes");
  }
}

const BenchRegistration registration(
    "matmul", "square matmul through the engine vs a direct sgemm call",
    [](CLI::App& cmd) -> std::function<int()> {
      auto o = std::make_shared<MatmulOptions>();
      add_list_option(cmd, "--sizes", o->sizes, "matrix sizes n (n x n x n), comma-separated");
      cmd.add_option("--device", o->device, "cpu, cuda or cuda:N");
      cmd.add_option("--repeats", o->repeats, "timed repetitions (median reported)")
          ->check(CLI::Range(1, 1 << 20));
      cmd.add_flag("--json", o->json, "JSON Lines output");
      return [o] { return run_or_refuse(*o); };
    });

}  // namespace

}  // namespace laplex::bench
