// laplex-bench covariance: one training step (NLL of a batch, summed, and the
// gradient of every parameter: `ms`; then with the Adam update of every
// parameter too: `step_ms`, the step of issue #6's targets) of each density
// model at the same n, batch and device, in one run: laplex_ou with the fused CPU kernel and with the
// composed engine ops, diagonal, ppca (rank --rank) and, for n <= 4096,
// full. Reports the median step time and the peak memory of a step in bytes
// per dimension above what was resident before it (x, the parameters):
// on the CPU the kernel's peak resident set (VmHWM of /proc/self/status,
// reset through /proc/self/clear_refs before the step, after malloc_trim has
// handed every free page back, so that memory the step reuses from the heap
// counts too), on CUDA the caching allocator's peak of bytes in use. Timing
// runs with the default allocator settings.
#include <algorithm>
#include <cstdio>
#include <map>
#include <memory>
#include <string>

#include "apps/bench/bench.h"
#include "apps/bench/peak_memory.h"
#include "core/error.h"
#include "core/ops/reduce.h"
#include "core/random.h"
#include "layers/covariance/density_config.h"
#include "layers/covariance/diagonal.h"
#include "layers/covariance/full_gaussian.h"
#include "layers/covariance/laplex_ou.h"
#include "layers/covariance/ppca.h"
#include "optim/adam.h"
#if LAPLEX_WITH_CUDA
#include "core/cuda/cuda_allocator.h"
#include "core/cuda/cuda_context.h"
#endif

namespace laplex::bench {

namespace {

struct CovarianceBenchOptions {
  std::vector<std::int64_t> n{784, 100000, 3000000};
  std::int64_t batch = 8;
  std::int64_t rank = 64;
  std::string device = "cpu";
  std::vector<std::string> models{"laplex_ou_fused", "laplex_ou_composed", "diagonal", "ppca",
                                  "full"};
  int repeats = 5;
  bool json = false;
  // laplex_ou's start order: raster keeps every gather in index order (the
  // best case); random makes each one a random access (the worst).
  std::string anchors = "raster";
};

std::shared_ptr<DensityModel> make_model(const std::string& name, std::int64_t n,
                                         std::int64_t rank, const std::string& anchors) {
  if (name == "laplex_ou_fused" || name == "laplex_ou_composed") {
    LaplexOuOptions o;
    o.dims = n;
    o.anchors = anchors;
    o.kernel = name == "laplex_ou_fused" ? "fused" : "composed";
    return std::make_shared<LaplexOu>(o, 1);
  }
  if (name == "diagonal") {
    DiagonalGaussianOptions o;
    o.dims = n;
    return std::make_shared<DiagonalGaussian>(o);
  }
  if (name == "ppca") {
    PpcaOptions o;
    o.dims = n;
    o.rank = std::min(rank, n);
    return std::make_shared<Ppca>(o, 1);
  }
  if (name == "full") {
    FullGaussianOptions o;
    o.dims = n;
    return std::make_shared<FullGaussian>(o);
  }
  throw UsageError("--models: unknown model " + name +
                   " (laplex_ou_fused, laplex_ou_composed, diagonal, ppca, full)");
}

// The step timed: the NLL of x summed, backward to every parameter.
void nll_step(DensityModel& model, const Tensor& x) {
  for (Tensor p : model.parameters()) p.zero_grad();
  sum(model.nll(x)).backward();
}

// On the CPU a row that would not fit in memory is skipped, not started: the
// kernel's out-of-memory killer ends the whole run, rows measured before
// included (diagonal at n = 10^8, batch 8 took all of a 24 GiB machine).
// What a row needs is extrapolated from one step at kCalibrationDims: the
// step's peak above what was resident, x, and four copies of the
// parameters (values, gradients, Adam's two moments), all linear in n.
constexpr std::int64_t kCalibrationDims = std::int64_t{1} << 18;

// Bytes per dimension; without /proc the step's own peak is left out.
double calibrated_bytes_per_dim(const CovarianceBenchOptions& o, const std::string& name) {
  auto model = make_model(name, kCalibrationDims, o.rank, o.anchors);
  Generator generator(7);
  const Tensor x = rand({o.batch, kCalibrationDims}, generator, DType::f32);
  nll_step(*model, x);  // the first step also sorts the anchors
  const std::int64_t peak = peak_rss_above_current([&] { nll_step(*model, x); });
  const double resident =
      4.0 * static_cast<double>(x.numel()) + 16.0 * static_cast<double>(model->parameter_count());
  return (static_cast<double>(std::max<std::int64_t>(peak, 0)) + resident) /
         static_cast<double>(kCalibrationDims);
}

// The parameters a model holds, from its shapes (mu and scales; ppca's
// n x k loadings; full's n x n factor), without allocating them.
double parameter_count(const std::string& name, std::int64_t dims, std::int64_t rank) {
  const double n = static_cast<double>(dims);
  if (name == "diagonal") return 2 * n;
  if (name == "ppca") return n * (static_cast<double>(std::min(rank, dims)) + 2);
  if (name == "full") return n * n + n;
  return 3 * n + 1;  // laplex_ou: mu, t, d and rho
}

// What a row holds before its first step: x and four copies of the
// parameters (values, gradients, Adam's two moments). Checked from the
// flags before anything is allocated: a row whose plain inputs cannot fit
// is never started, nor calibrated (the calibration holds batch x 2^18
// floats of x: at batch 2^31 it ended the run with "out of memory").
double plain_bytes(const CovarianceBenchOptions& o, const std::string& name, std::int64_t n) {
  return 4.0 * static_cast<double>(o.batch) * static_cast<double>(n) +
         16.0 * parameter_count(name, n, o.rank);
}

// The rows no calibration sizes (n <= kCalibrationDims, and full) add what
// a step allocates: 64 bytes per value of x (8 for the fused kernel) and
// 128 per parameter, rounded up from peak_B_per_dim at n = 4096 and 2^17,
// batch 8 to 512 (27-56 bytes per value, the fused kernel under 2; up to
// 116 per parameter, laplex_ou_composed). Without them --n 1000 --batch
// 5000000 fit as 18.6 GiB of x and its step took about 130 GiB more.
double uncalibrated_bytes(const CovarianceBenchOptions& o, const std::string& name,
                          std::int64_t n) {
  const double per_value = name == "laplex_ou_fused" ? 8.0 : 64.0;
  return plain_bytes(o, name, n) +
         per_value * static_cast<double>(o.batch) * static_cast<double>(n) +
         128.0 * parameter_count(name, n, o.rank);
}

// A note for a CPU row that does not fit in 90% of MemAvailable (and one
// line on stderr), else empty. Above kCalibrationDims a row whose plain
// inputs fit is extrapolated from the calibration (which holds less);
// the rest are sized from the flags. `per_dim` caches the calibration by
// model.
std::string skip_note(const CovarianceBenchOptions& o, const std::string& name, std::int64_t n,
                      std::map<std::string, double>& per_dim) {
  if (available_memory_bytes() <= 0) return "";
  const bool calibrated = n > kCalibrationDims && name != "full";
  double need = calibrated ? plain_bytes(o, name, n) : uncalibrated_bytes(o, name, n);
  if (calibrated && fits_in_memory(need)) {
    if (!per_dim.count(name)) per_dim[name] = calibrated_bytes_per_dim(o, name);
    need = per_dim[name] * static_cast<double>(n);
  }
  if (fits_in_memory(need)) return "";
  const std::string note = "skipped: needs " + memory_need_text(need);
  std::fprintf(stderr, "laplex-bench covariance: %s at n = %lld, batch %lld %s\n", name.c_str(),
               static_cast<long long>(n), static_cast<long long>(o.batch), note.c_str());
  return note;
}

nlohmann::json row_header(const CovarianceBenchOptions& o, const std::string& name, std::int64_t n,
                          Device device) {
  return nlohmann::json{
      {"model", name == "ppca" ? "ppca_k" + std::to_string(std::min(o.rank, n)) : name},
      {"n", n},
      {"batch", o.batch},
      {"device", device.str()}};
}

nlohmann::json measure(const CovarianceBenchOptions& o, const std::string& name, std::int64_t n,
                       Device device, std::map<std::string, double>& per_dim) {
  nlohmann::json row = row_header(o, name, n, device);
  if (name == "full" && n > kFullGaussianMaxDims) {
    row["note"] = "n > max_dims";
    return row;
  }
  if (name == "laplex_ou_fused" && !device.is_cpu()) {
    row["note"] = "CPU kernel";
    return row;
  }
  if (name.rfind("laplex_ou", 0) == 0) row["anchors"] = o.anchors;
  if (device.is_cpu()) {
    const std::string skipped = skip_note(o, name, n, per_dim);
    if (!skipped.empty()) {
      row["note"] = skipped;
      return row;
    }
  }
  auto model = make_model(name, n, o.rank, o.anchors);
  model->to(device);
  Generator generator(7);
  // Pixel-like data in [0, 1]; x itself needs no gradient in training.
  const Tensor x = rand({o.batch, n}, generator, DType::f32, device);
  std::function<void()> sync;
#if LAPLEX_WITH_CUDA
  if (device.is_cuda()) sync = [index = device.index] { cuda::synchronize(index); };
#endif
  auto step = [&] { nll_step(*model, x); };
  step();  // warm-up: the first step also sorts the anchors
  if (sync) sync();
  // Peak of one steady-state step above what is resident before it.
  std::int64_t peak = -1;
  std::string source;
  for (Tensor p : model->parameters()) p.zero_grad();
  if (device.is_cpu()) {
    peak = peak_rss_above_current(step);
    if (peak >= 0) source = "VmHWM";
  } else {
#if LAPLEX_WITH_CUDA
    cuda::synchronize(device.index);
    const std::int64_t before =
        static_cast<std::int64_t>(cuda::allocator_stats(device.index).in_use);
    cuda::reset_peak(device.index);
    step();
    cuda::synchronize(device.index);
    peak = static_cast<std::int64_t>(cuda::allocator_stats(device.index).peak_in_use) - before;
    source = "cuda allocator";
#endif
  }
  row["ms"] = median_ms(step, o.repeats, 0, sync);
  // The Adam state is allocated by its first update, the warm-up below.
  optim::ParamGroup group;
  group.params = model->parameters();
  group.lr = 1e-3;
  optim::Adam adam({group}, optim::AdamOptions{});
  auto train_step = [&] {
    step();
    adam.step();
  };
  train_step();
  row["step_ms"] = median_ms(train_step, o.repeats, 0, sync);
  row["peak_B_per_dim"] = peak < 0
                              ? nlohmann::json(nullptr)
                              : nlohmann::json(static_cast<double>(peak) / static_cast<double>(n));
  row["memory"] = source;
  row["params"] = model->parameter_count();
  return row;
}

// Every flag is checked before the first row: rows print as they are
// measured (--json), and a bad value after them left a half-written run.
void check_options(const CovarianceBenchOptions& o) {
  if (o.batch < 1 || o.batch > (std::int64_t{1} << 31))
    throw UsageError("--batch: must be in [1, 2^31]");
  if (o.repeats < 1) throw UsageError("--repeats: must be >= 1");
  if (o.anchors != "raster" && o.anchors != "serpentine" && o.anchors != "random")
    throw UsageError("--anchors: expected raster, serpentine or random, got '" + o.anchors + "'");
  for (const std::int64_t n : o.n)
    if (n < 1 || n > kDensityMaxDims)
      throw UsageError("--n: sizes must be in [1, " + std::to_string(kDensityMaxDims) + "], got " +
                       std::to_string(n));
  for (const auto& name : o.models)
    if (name != "laplex_ou_fused" && name != "laplex_ou_composed" && name != "diagonal" &&
        name != "ppca" && name != "full")
      throw UsageError("--models: unknown model " + name +
                       " (laplex_ou_fused, laplex_ou_composed, diagonal, ppca, full)");
}

int run(const CovarianceBenchOptions& o) {
  const Device device = usable_device(o.device);
  check_options(o);
  std::vector<nlohmann::json> rows;
  std::map<std::string, double> per_dim;
  for (const std::int64_t n : o.n) {
    for (const auto& name : o.models) {
      // GPU rows are not sized up front as CPU rows are: one that runs out
      // of device memory is noted and the run goes on to the next.
      try {
        rows.push_back(measure(o, name, n, device, per_dim));
      } catch (const OutOfMemory& e) {
#if LAPLEX_WITH_CUDA
        if (device.is_cuda()) cuda::release_cached(device.index);
#endif
        rows.push_back(row_header(o, name, n, device));
        rows.back()["note"] = "skipped: out of device memory";
        std::fprintf(stderr, "laplex-bench covariance: %s at n = %lld, batch %lld skipped: %s\n",
                     name.c_str(), static_cast<long long>(n), static_cast<long long>(o.batch),
                     e.what());
      }
      if (o.json) print_rows({rows.back()}, {}, true);
      std::fflush(stdout);
    }
  }
  if (!o.json)
    print_rows(rows,
               {"model", "anchors", "n", "batch", "device", "ms", "step_ms", "peak_B_per_dim",
                "memory", "note"},
               false);
  return 0;
}

const BenchRegistration registration(
    "covariance",
    "density models: NLL + gradient (and + Adam) time and peak memory per dimension",
    [](CLI::App& cmd) -> std::function<int()> {
      auto o = std::make_shared<CovarianceBenchOptions>();
      add_list_option(cmd, "--n", o->n,
                      "dimensions (several allowed, or comma-separated; default 784 100000 3000000)");
      cmd.add_option("--batch", o->batch, "rows per step (default 8)");
      cmd.add_option("--rank", o->rank, "PPCA rank (default 64; at most n, column model)")
          ->check(CLI::Range(std::int64_t{1}, std::int64_t{1} << 31));
      cmd.add_option("--device", o->device, "cpu, cuda or cuda:N");
      add_list_option(cmd, "--models", o->models,
                      "subset of laplex_ou_fused laplex_ou_composed diagonal ppca full");
      cmd.add_option("--repeats", o->repeats, "timed steps (median reported)");
      cmd.add_option("--anchors", o->anchors,
                     "laplex_ou start order: raster (default; gathers in index order), "
                     "serpentine or random (every gather a random access)");
      cmd.add_flag("--json", o->json, "JSON Lines output");
      return [o] { return run(*o); };
    });

}  // namespace

}  // namespace laplex::bench
