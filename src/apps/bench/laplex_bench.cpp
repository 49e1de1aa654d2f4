// laplex-bench laplex: the CPU LAPLEX kernels (sort, forward, forward +
// backward) next to their peers in the same run: an FFTW real FFT + inverse
// of every batch row (what an FFT layer of the same size pays) and an sgemm
// with the stored m x n matrix while it fits. Medians of repeated runs.
#include <cblas.h>
#include <fftw3.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <new>
#include <random>

#include "apps/bench/bench.h"
#include "apps/bench/peak_memory.h"
#include "core/error.h"
#include "core/device.h"
#include "layers/laplex/laplex_cpu.h"
#if LAPLEX_WITH_CUDA
#include "apps/bench/cuda/laplex_bench_cuda.h"
#include "core/cuda/cuda_allocator.h"
#endif

namespace laplex::bench {

namespace {

constexpr std::int64_t kSweepFirstN = 1 << 10;

struct LaplexBenchOptions {
  std::int64_t n = 1 << 16;
  std::int64_t m = 0;  // 0: m = n
  std::int64_t batch = 64;
  std::int64_t heads = 1;
  bool phased = false;
  bool gains = false;
  std::string device = "cpu";
  bool json = false;
  bool sweep = false;
  std::int64_t max_n = std::int64_t{1} << 26;
  int repeats = 5;
  double dense_limit_gib = 4.0;
  std::string anchors = "random";
  int lanes = 0;  // CPU forward's batch lanes per chunk; 0: chosen by cache size
};

// Anchors uniform over a range with ~1 anchor per unit, alpha ~ 1; in index
// order ("sorted", as a linspace initialisation keeps them) or not ("random",
// the worst case for memory access).
struct Operator {
  LaplexShape shape;
  std::vector<float> t, s, u, v, rho, omega, phi;
  LaplexParamPtrs<float> params() const {
    return {t.data(), s.data(), u.empty() ? nullptr : u.data(), v.empty() ? nullptr : v.data(),
            rho.data(), omega.data(), phi.data()};
  }
};

Operator make_operator(const LaplexShape& shape, bool gains, bool sorted, std::mt19937_64& rng) {
  Operator op;
  op.shape = shape;
  const float range = static_cast<float>(std::max(shape.m, shape.n));
  std::uniform_real_distribution<float> anchor(0.0f, range), gain(0.5f, 1.5f);
  op.t.resize(shape.heads * shape.m);
  op.s.resize(shape.heads * shape.n);
  for (auto& a : op.t) a = anchor(rng);
  for (auto& a : op.s) a = anchor(rng);
  if (sorted)
    for (std::int64_t h = 0; h < shape.heads; ++h) {
      std::sort(op.t.begin() + h * shape.m, op.t.begin() + (h + 1) * shape.m);
      std::sort(op.s.begin() + h * shape.n, op.s.begin() + (h + 1) * shape.n);
    }
  if (gains) {
    op.u.resize(op.t.size());
    op.v.resize(op.s.size());
    for (auto& g : op.u) g = gain(rng);
    for (auto& g : op.v) g = gain(rng);
  }
  op.rho.assign(shape.heads, 0.5f);
  op.omega.assign(shape.heads, 0.3f);
  op.phi.assign(shape.heads, 0.2f);
  return op;
}

// r2c then c2r of length n for each of the B rows, planned once (planning
// is not timed).
class FftwPeer {
 public:
  FftwPeer(std::int64_t n, std::int64_t batch) {
    static const bool threads_ready = fftwf_init_threads() != 0;
    if (threads_ready) fftwf_plan_with_nthreads(omp_get_max_threads());
    const int length = static_cast<int>(n), rows = static_cast<int>(batch);
    const std::int64_t bins = n / 2 + 1;
    real_.reset(static_cast<float*>(fftwf_malloc(sizeof(float) * n * batch)));
    spectrum_.reset(
        static_cast<fftwf_complex*>(fftwf_malloc(sizeof(fftwf_complex) * bins * batch)));
    if (!real_ || !spectrum_) throw std::bad_alloc();
    // MEASURE finds the fast plan; past 2^20 its search takes minutes on 2 cores.
    const unsigned flags = n <= (1 << 20) ? FFTW_MEASURE : FFTW_ESTIMATE;
    forward_ = fftwf_plan_many_dft_r2c(1, &length, rows, real_.get(), nullptr, 1, length,
                                       spectrum_.get(), nullptr, 1, bins, flags);
    inverse_ = fftwf_plan_many_dft_c2r(1, &length, rows, spectrum_.get(), nullptr, 1, bins,
                                       real_.get(), nullptr, 1, length, flags);
    std::mt19937_64 rng(3);
    std::uniform_real_distribution<float> dist(-1, 1);
    for (std::int64_t k = 0; k < n * batch; ++k) real_.get()[k] = dist(rng);
  }
  FftwPeer(const FftwPeer&) = delete;
  FftwPeer& operator=(const FftwPeer&) = delete;
  ~FftwPeer() {
    fftwf_destroy_plan(forward_);
    fftwf_destroy_plan(inverse_);
  }
  void run() const {
    fftwf_execute(forward_);
    fftwf_execute(inverse_);
  }

 private:
  struct FftwFree {
    void operator()(void* p) const { fftwf_free(p); }
  };
  std::unique_ptr<float, FftwFree> real_;
  std::unique_ptr<fftwf_complex, FftwFree> spectrum_;
  fftwf_plan forward_ = nullptr, inverse_ = nullptr;
};

// Y (B, m) = X (B, n) W^T with a stored W; null when W would not fit.
nlohmann::json dense_ms(const LaplexShape& shape, const std::vector<float>& x,
                        double limit_gib, int repeats) {
  const double bytes = 4.0 * static_cast<double>(shape.m) * static_cast<double>(shape.n);
  if (bytes > limit_gib * (1 << 30)) return nullptr;
  std::vector<float> w, y;
  try {
    w.assign(shape.m * shape.n, 0.001f);
    y.resize(shape.batch * shape.m);
  } catch (const std::bad_alloc&) {
    return nullptr;
  }
  const int batch = static_cast<int>(shape.batch), m = static_cast<int>(shape.m),
            n = static_cast<int>(shape.n);
  return median_ms(
      [&] {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, batch, m, n, 1.0f, x.data(), n,
                    w.data(), n, 0.0f, y.data(), m);
      },
      std::min(repeats, 3), 1);
}

// What the forward must move: x in, y out, anchors (and gains) in.
double forward_bytes(const LaplexShape& shape, bool gains) {
  return 4.0 * static_cast<double>(shape.batch * (shape.n + shape.m) +
                                   shape.heads * (shape.n + shape.m) * (gains ? 2 : 1));
}

// Medians of one row's timings, milliseconds.
struct RowTimes {
  double sort, fwd, fwdbwd, fft;
  nlohmann::json dense;  // null when the stored matrix does not fit
};

// The columns every device's row has: the sizes, the timings and what
// follows from them (bandwidth on the bytes the forward must move, ratios).
nlohmann::json laplex_row(const LaplexBenchOptions& o, const LaplexShape& shape,
                          const std::string& device, const RowTimes& t) {
  return {{"op", "laplex"},
          {"n", shape.n},
          {"m", shape.m},
          {"batch", shape.batch},
          {"heads", shape.heads},
          {"phased", shape.phased},
          {"gains", o.gains},
          {"anchors", o.anchors},
          {"device", device},
          {"sort_ms", t.sort},
          // A difference of two medians: at tiny sizes the noise can
          // make it negative, which no scan takes.
          {"scan_ms", std::max(0.0, t.fwd - t.sort)},
          {"fwd_ms", t.fwd},
          {"fwdbwd_ms", t.fwdbwd},
          {"fft_ms", t.fft},
          {"dense_ms", t.dense},
          {"gb_per_s", forward_bytes(shape, o.gains) / t.fwd / 1e6},
          {"ratio_fft", t.fwd / t.fft},
          {"bwd_over_fwd", t.fwdbwd / t.fwd}};
}

// A GPU row that runs out of device memory is measured again with the
// batch halved (x and g keep their first rows), as CPU rows are sized before
// they start; one line on stderr says so. Null, and `skipped` says why, when
// batch 1 does not fit.
nlohmann::json measure_cuda(const LaplexBenchOptions& o, LaplexShape shape,
                            const LaplexParamPtrs<float>& params, const std::vector<float>& x,
                            const std::vector<float>& gy, std::string& skipped) {
#if LAPLEX_WITH_CUDA
  const Device device = usable_device(o.device);
  for (;;) {
    try {
      const CudaLaplexTimings c = time_laplex_cuda(shape, params, x.data(), gy.data(), o.repeats,
                                                   o.dense_limit_gib, device.index);
      nlohmann::json row = laplex_row(o, shape, device.str(),
                                      {c.sort_ms, c.fwd_ms, c.fwdbwd_ms, c.fft_ms,
                                       c.dense_ms < 0 ? nlohmann::json(nullptr)
                                                      : nlohmann::json(c.dense_ms)});
      row["copy_gb_per_s"] = c.copy_gb_per_s;
      row["copy_fraction"] = row["gb_per_s"].get<double>() / c.copy_gb_per_s;
      row["peak_bytes_per_n"] = c.peak_bytes / static_cast<double>(shape.n);
      return row;
    } catch (const OutOfMemory& e) {
      cuda::release_cached(device.index);
      if (shape.batch == 1) {
        skipped = std::string("batch 1 does not fit (") + e.what() + ")";
        return nullptr;
      }
      std::fprintf(stderr,
                   "laplex-bench: n = %lld: batch %lld does not fit in %s memory; measuring "
                   "batch %lld\n",
                   static_cast<long long>(shape.n), static_cast<long long>(shape.batch),
                   device.str().c_str(), static_cast<long long>(shape.batch / 2));
      shape.batch /= 2;
    }
  }
#else
  (void)shape, (void)params, (void)x, (void)gy, (void)skipped;
  throw UsageError("--device " + o.device + ": this build has no CUDA support");
#endif
}

// Peak bytes of one CPU row: x, y, g, dx and the FFT peer's buffers, the
// anchors (and gains) with their gradients, plus what the kernels allocate
// for a forward and backward.
double cpu_row_bytes(const LaplexShape& shape, bool gains) {
  const double b = static_cast<double>(shape.batch), n = static_cast<double>(shape.n),
               m = static_cast<double>(shape.m);
  const double arrays = 4.0 * b * (2 * n + 2 * m) + 4.0 * b * n + 8.0 * b * (n / 2 + 1);
  const double anchors = 8.0 * static_cast<double>(shape.heads) * (n + m) * (gains ? 2 : 1);
  return arrays + anchors +
         static_cast<double>(
             cpu::laplex_cpu_bytes(shape, omp_get_max_threads(), sizeof(float), true));
}

// The host side of a GPU row: x and g, filled here before they are
// uploaded, and the parameters. A cuda sweep at batch 64 needs 2 x 64 GiB
// of them at 2^28, more than the host of an 80 GB GPU may have.
double gpu_host_bytes(const LaplexShape& shape, bool gains) {
  const double n = static_cast<double>(shape.n), m = static_cast<double>(shape.m);
  return 4.0 * static_cast<double>(shape.batch) * (n + m) +
         8.0 * static_cast<double>(shape.heads) * (n + m) * (gains ? 2 : 1);
}

// The largest batch up to the asked one whose row fits in 90% of
// MemAvailable (halving): the whole row on the CPU, its host side for a GPU
// (device memory is found out by trying, measure_cuda). 0, and `skipped`
// says why, when not even batch 1 fits. One line on stderr says when the
// batch was reduced.
std::int64_t fitting_batch(LaplexShape shape, bool gains, bool on_gpu, std::string& skipped) {
  const double budget = 0.9 * available_memory_bytes();
  if (budget <= 0) return shape.batch;
  auto bytes = [&](const LaplexShape& s) {
    return on_gpu ? gpu_host_bytes(s, gains) : cpu_row_bytes(s, gains);
  };
  const std::int64_t asked = shape.batch;
  const double asked_bytes = bytes(shape);
  while (shape.batch >= 1 && bytes(shape) > budget) shape.batch /= 2;
  constexpr double kGiB = double(1 << 30);
  if (shape.batch < 1)
    skipped = "even batch 1 needs " +
              memory_need_text(bytes({1, shape.m, shape.n, shape.heads, shape.phased}));
  else if (shape.batch < asked)
    std::fprintf(stderr,
                 "laplex-bench: n = %lld: batch %lld needs ~%.1f GiB, MemAvailable %.1f GiB; "
                 "measuring batch %lld\n",
                 static_cast<long long>(shape.n), static_cast<long long>(asked),
                 asked_bytes / kGiB, budget / 0.9 / kGiB, static_cast<long long>(shape.batch));
  return std::max<std::int64_t>(shape.batch, 0);
}

// Null, and `skipped` says why, when the row does not fit in memory.
nlohmann::json measure(const LaplexBenchOptions& o, std::int64_t n, std::string& skipped) {
  LaplexShape shape{o.batch, o.m > 0 ? o.m : n, n, o.heads, o.phased};
  check_laplex_shape(shape);
  shape.batch = fitting_batch(shape, o.gains, o.device != "cpu", skipped);
  if (shape.batch == 0) return nullptr;
  std::mt19937_64 rng(1);
  const Operator op = make_operator(shape, o.gains, o.anchors == "sorted", rng);
  const LaplexParamPtrs<float> params = op.params();
  std::vector<float> x(shape.batch * shape.n), y(shape.batch * shape.m), gy(y.size());
  std::uniform_real_distribution<float> dist(-1, 1);
  for (auto& value : x) value = dist(rng);
  for (auto& value : gy) value = dist(rng);
  if (o.device != "cpu") return measure_cuda(o, shape, params, x, gy, skipped);
  std::vector<float> dx(x.size()), dt(op.t.size()), ds(op.s.size()), du(op.u.size()),
      dv(op.v.size()), drho(shape.heads), domega(shape.heads), dphi(shape.heads);
  LaplexGradPtrs<float> grads{dx.data(), dt.data(), ds.data(),
                              o.gains ? du.data() : nullptr, o.gains ? dv.data() : nullptr,
                              drho.data(), o.phased ? domega.data() : nullptr,
                              o.phased ? dphi.data() : nullptr};

  // A repeat is a training step of a layer: it sorts again, and the sort and
  // the kernels reuse the scratch the layer keeps from the step before. The
  // sort, the forward, the training step and the FFT peer take turns in
  // every round, so the ratios compare timings of the same minutes.
  const auto scratch = std::make_shared<LaplexScratchPool>();
  const FftwPeer fft(n, shape.batch);
  int lanes = 0;  // what the forward chose (a saved forward records it)
  const std::vector<double> ms = interleaved_medians_ms(
      {[&] { make_laplex_plan(shape, op.t.data(), op.s.data(), scratch); },
       [&] {
         const auto plan = make_laplex_plan(shape, op.t.data(), op.s.data(), scratch);
         cpu::laplex_forward(plan, shape, params, x.data(), y.data(),
                             static_cast<cpu::LaplexSaved<float>*>(nullptr), o.lanes);
       },
       [&] {
         // As in training: the forward keeps its rows for the backward.
         const auto plan = make_laplex_plan(shape, op.t.data(), op.s.data(), scratch);
         cpu::LaplexSaved<float> saved;
         cpu::laplex_forward(plan, shape, params, x.data(), y.data(), &saved, o.lanes);
         lanes = saved.width;
         cpu::laplex_backward(plan, shape, params, x.data(), gy.data(), grads, &saved);
       },
       [&] { fft.run(); }},
      o.repeats, 1);
  nlohmann::json row = laplex_row(o, shape, "cpu",
                                  {ms[0], ms[1], ms[2], ms[3],
                                   dense_ms(shape, x, o.dense_limit_gib, o.repeats)});
  row["threads"] = omp_get_max_threads();
  // With several heads the forward saves nothing and does not say what it
  // chose; a --lanes it was given is still what it ran.
  const int ran = lanes > 0 ? lanes : o.lanes;
  row["lanes"] = ran > 0 ? nlohmann::json(ran) : nlohmann::json(nullptr);
  row["mem_gib"] = cpu_row_bytes(shape, o.gains) / double(1 << 30);
  return row;
}

int run(const LaplexBenchOptions& o) {
  if (o.device != "cpu" && o.device.rfind("cuda", 0) != 0)
    throw UsageError("--device: expected cpu, cuda or cuda:N, got '" + o.device + "'");
  const bool on_gpu = !usable_device(o.device).is_cpu();
  if (o.anchors != "random" && o.anchors != "sorted")
    throw UsageError("--anchors: expected random or sorted, got '" + o.anchors + "'");
  if (o.lanes != 0 && o.lanes != 1 && o.lanes != 4 && o.lanes != 8 && o.lanes != 16 &&
      o.lanes != 32)
    throw UsageError("--lanes: expected 0 (chosen), 1, 4, 8, 16 or 32, got " +
                     std::to_string(o.lanes));
  if (o.lanes != 0 && on_gpu) throw UsageError("--lanes is for --device cpu");
  if (o.n < 1 || o.m < 0 || o.batch < 1 || o.heads < 1 || o.repeats < 1 || o.max_n < 1)
    throw UsageError("--n, --batch, --heads, --repeats and --max-n must be >= 1 (--m >= 0)");
  // Event codes keep an anchor's index in 31 bits; the largest operator of
  // a run must also have a size that fits 63 bits.
  constexpr std::int64_t kMaxSide = (std::int64_t{1} << 31) - 1;
  if (o.n > kMaxSide || o.m > kMaxSide || (o.sweep && o.max_n > kMaxSide))
    throw UsageError("--n, --m and --max-n must be below 2^31");
  if (o.heads > (std::int64_t{1} << 20) || o.batch > (std::int64_t{1} << 31))
    throw UsageError("--heads must be <= 2^20 and --batch <= 2^31");
  if (!(o.dense_limit_gib >= 0 && std::isfinite(o.dense_limit_gib)))
    throw UsageError("--dense-limit-gib must be a finite number >= 0");
  std::vector<std::int64_t> sizes;
  if (o.sweep) {
    const std::int64_t top = std::int64_t{1} << (on_gpu ? 30 : 26);
    if (o.max_n < kSweepFirstN)
      throw UsageError("--max-n: a sweep starts at n = 2^10 = 1024, got " + std::to_string(o.max_n));
    for (std::int64_t n = kSweepFirstN; n <= std::min(o.max_n, top); n *= 2)
      sizes.push_back(n);
  } else {
    sizes.push_back(o.n);
  }
  const std::vector<std::string> columns = {
      "n",      "m",       "batch",     "heads",  "phased",   "anchors",  "device",
      "lanes",  "sort_ms", "scan_ms",   "fwd_ms", "fwdbwd_ms", "fft_ms",  "dense_ms",
      "gb_per_s", "mem_gib", "ratio_fft", "bwd_over_fwd"};
  std::vector<nlohmann::json> rows;
  for (std::int64_t n : sizes) {
    std::string skipped;
    nlohmann::json row = measure(o, n, skipped);
    // A sweep goes on past a size that does not fit; the one size asked
    // for explicitly is a usage error (an empty table said nothing).
    if (row.is_null() && !o.sweep)
      throw UsageError(o.m > 0 ? "--n " + std::to_string(n) + " --m " + std::to_string(o.m) +
                                     ": cannot run: " + skipped
                               : "--n: " + std::to_string(n) + " cannot run: " + skipped);
    if (row.is_null()) {
      std::fprintf(stderr, "laplex-bench: n = %lld skipped: %s\n", static_cast<long long>(n),
                   skipped.c_str());
      continue;
    }
    rows.push_back(std::move(row));
    // A sweep prints as it goes: the top sizes take a while.
    if (o.sweep && o.json) {
      print_rows({rows.back()}, columns, true);
      std::fflush(stdout);
    }
  }
  if (!(o.sweep && o.json)) print_rows(rows, columns, o.json);
  return 0;
}

const BenchRegistration registration(
    "laplex", "LAPLEX forward / forward+backward vs an FFTW real FFT and a dense sgemm",
    [](CLI::App& cmd) -> std::function<int()> {
      auto o = std::make_shared<LaplexBenchOptions>();
      CLI::Option* n = cmd.add_option(
          "--n", o->n, "inputs n (sources); on cpu a size that does not fit even at batch 1 is an error");
      cmd.add_option("--m", o->m, "outputs m (targets; default n)");
      cmd.add_option("--batch", o->batch, "batch rows B");
      cmd.add_option("--heads", o->heads, "heads H");
      cmd.add_flag("--phased", o->phased, "phased kernel (complex scans)");
      cmd.add_flag("--gains", o->gains, "with gains u, v");
      cmd.add_option("--device", o->device, "cpu, cuda or cuda:N");
      cmd.add_flag("--json", o->json, "JSON Lines output");
      CLI::Option* sweep = cmd.add_flag("--sweep", o->sweep,
                   "n = 2^10 .. 2^26 on cpu, .. 2^30 on cuda (capped by --max-n). On cpu a row "
                   "whose estimated memory (column mem_gib) exceeds 90% of MemAvailable runs "
                   "with the batch halved until it fits (the batch column says which; a note "
                   "goes to stderr), or is skipped when batch 1 does not fit; on cuda a row "
                   "that runs out of device memory is measured again with the batch halved");
      // A sweep sets n itself; --max-n means nothing without one.
      sweep->excludes(n);
      cmd.add_option("--max-n", o->max_n, "largest n of a sweep (>= 1024)")->needs(sweep);
      cmd.add_option("--repeats", o->repeats, "timed repetitions (median reported)");
      cmd.add_option("--anchors", o->anchors, "random (default) or sorted anchor order");
      cmd.add_option("--lanes", o->lanes,
                     "cpu: batch lanes per chunk of the forward, 1, 4, 8, 16 or 32 (column "
                     "lanes); 0 (default) picks them by cache size");
      cmd.add_option("--dense-limit-gib", o->dense_limit_gib,
                     "largest stored matrix for the sgemm peer, GiB");
      return [o] { return run(*o); };
    });

}  // namespace

}  // namespace laplex::bench
