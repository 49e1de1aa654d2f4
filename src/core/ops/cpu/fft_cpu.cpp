// FFTW backend of the real FFTs, with the process-wide plan cache that
// fft.h documents.
#include <fftw3.h>
#include <omp.h>

#include <climits>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <type_traits>

#include "core/ops/cpu/strided_loop.h"
#include "core/ops/fft_kernels.h"

namespace laplex::cpu {

namespace {

// Below this many real values per transform batch, threads cost more than
// they save.
constexpr std::int64_t kThreadedFftGrain = 1 << 16;
// Distinct batch sizes are few in practice (training, last and eval
// batches); past this many plans the cache starts over rather than grow.
constexpr std::size_t kMaxPlans = 64;

struct PlanKey {
  std::int64_t n = 0, batch = 0;
  DType dtype = DType::f32;
  bool inverse = false;
  int threads = 1;
  auto operator<=>(const PlanKey&) const = default;
};

// One FFTW plan of either precision. Destroying a plan is a planner call, so
// the destructor takes the planner mutex.
class FftwPlan {
 public:
  FftwPlan(std::mutex& planner, fftwf_plan single) : planner_(planner), single_(single) {}
  FftwPlan(std::mutex& planner, fftw_plan dual) : planner_(planner), double_(dual) {}
  ~FftwPlan() {
    std::lock_guard<std::mutex> lock(planner_);
    if (single_) fftwf_destroy_plan(single_);
    if (double_) fftw_destroy_plan(double_);
  }
  FftwPlan(const FftwPlan&) = delete;
  FftwPlan& operator=(const FftwPlan&) = delete;

  fftwf_plan single() const { return single_; }
  fftw_plan dual() const { return double_; }

 private:
  std::mutex& planner_;
  fftwf_plan single_ = nullptr;
  fftw_plan double_ = nullptr;
};

// Frees an fftw_malloc'ed scratch buffer.
struct FftwFree {
  void operator()(void* p) const { fftw_free(p); }
};
using Scratch = std::unique_ptr<void, FftwFree>;

Scratch scratch(std::size_t bytes) {
  Scratch buffer(fftw_malloc(bytes));
  if (!buffer) throw std::bad_alloc();
  return buffer;
}

// The plan cache. Its mutex also serialises every FFTW planner call (plan
// creation and destruction, thread setup), which FFTW requires. Executing a
// plan on new arrays (fftw_execute_dft_*) is thread-safe and runs unlocked.
class FftwPlanCache {
 public:
  std::shared_ptr<const FftwPlan> get(const PlanKey& key) {
    // Declared before the lock so evicted plans are destroyed after it is
    // released: their destructors take the same mutex.
    std::map<PlanKey, std::shared_ptr<const FftwPlan>> evicted;
    std::lock_guard<std::mutex> lock(mutex_);
    auto found = plans_.find(key);
    if (found != plans_.end()) return found->second;
    if (plans_.size() >= kMaxPlans) evicted.swap(plans_);
    auto plan = create(key);
    plans_.emplace(key, plan);
    return plan;
  }

 private:
  // Called with mutex_ held.
  std::shared_ptr<const FftwPlan> create(const PlanKey& key) {
    const int n = static_cast<int>(key.n), batch = static_cast<int>(key.batch);
    const int k_count = n / 2 + 1;
    // Planned on scratch buffers from fftw_malloc; tensors start at 64-byte
    // aligned storage, so the plans' SIMD alignment holds for them too.
    if (key.dtype == DType::f32) {
      if (key.threads > 1 && !threads_ready_) {
        if (fftwf_init_threads() == 0) throw Error("rfft: fftwf_init_threads failed");
        threads_ready_ = true;
      }
      if (threads_ready_) fftwf_plan_with_nthreads(key.threads);
      Scratch real = scratch(sizeof(float) * key.n * key.batch);
      Scratch spectrum = scratch(sizeof(fftwf_complex) * k_count * key.batch);
      auto* r = static_cast<float*>(real.get());
      auto* c = static_cast<fftwf_complex*>(spectrum.get());
      fftwf_plan plan =
          key.inverse
              ? fftwf_plan_many_dft_c2r(1, &n, batch, c, nullptr, 1, k_count, r, nullptr, 1, n,
                                        FFTW_ESTIMATE)
              : fftwf_plan_many_dft_r2c(1, &n, batch, r, nullptr, 1, n, c, nullptr, 1, k_count,
                                        FFTW_ESTIMATE);
      if (!plan) throw Error("rfft: FFTW could not plan a float32 transform of length " +
                             std::to_string(key.n));
      return std::make_shared<const FftwPlan>(mutex_, plan);
    }
    Scratch real = scratch(sizeof(double) * key.n * key.batch);
    Scratch spectrum = scratch(sizeof(fftw_complex) * k_count * key.batch);
    auto* r = static_cast<double*>(real.get());
    auto* c = static_cast<fftw_complex*>(spectrum.get());
    fftw_plan plan =
        key.inverse
            ? fftw_plan_many_dft_c2r(1, &n, batch, c, nullptr, 1, k_count, r, nullptr, 1, n,
                                     FFTW_ESTIMATE)
            : fftw_plan_many_dft_r2c(1, &n, batch, r, nullptr, 1, n, c, nullptr, 1, k_count,
                                     FFTW_ESTIMATE);
    if (!plan) throw Error("rfft: FFTW could not plan a float64 transform of length " +
                           std::to_string(key.n));
    return std::make_shared<const FftwPlan>(mutex_, plan);
  }

  std::mutex mutex_;
  bool threads_ready_ = false;
  std::map<PlanKey, std::shared_ptr<const FftwPlan>> plans_;
};

FftwPlanCache& plan_cache() {
  static FftwPlanCache cache;
  return cache;
}

PlanKey key_for(const Tensor& t, std::int64_t batch, std::int64_t n, bool inverse) {
  if (n > INT_MAX || batch > INT_MAX || n * batch > INT_MAX)
    throw Error("rfft: " + std::to_string(batch) + " transforms of length " + std::to_string(n) +
                " exceed FFTW's int sizes");
  // Only float32 gets threads: laplex links FFTW's OpenMP library for it alone.
  const int threads = t.dtype() == DType::f32 && n * batch >= kThreadedFftGrain
                          ? omp_get_max_threads()
                          : 1;
  return {n, batch, t.dtype(), inverse, threads};
}

void check_aligned(const void* p) {
  if (fftw_alignment_of(static_cast<double*>(const_cast<void*>(p))) != 0)
    throw Error("rfft: internal error: FFT buffer is not aligned as planned");
}

}  // namespace

void rfft(const Tensor& x, const Tensor& out, std::int64_t batch, std::int64_t n) {
  const auto plan = plan_cache().get(key_for(x, batch, n, false));
  check_aligned(x.raw_data());
  check_aligned(out.raw_data());
  if (x.dtype() == DType::f32) {
    fftwf_execute_dft_r2c(plan->single(), x.data<float>(),
                          reinterpret_cast<fftwf_complex*>(out.data<float>()));
  } else {
    fftw_execute_dft_r2c(plan->dual(), x.data<double>(),
                         reinterpret_cast<fftw_complex*>(out.data<double>()));
  }
}

void irfft(const Tensor& spectrum, const Tensor& out, std::int64_t batch, std::int64_t n) {
  const auto plan = plan_cache().get(key_for(out, batch, n, true));
  check_aligned(spectrum.raw_data());
  check_aligned(out.raw_data());
  const std::int64_t total = batch * n;
  visit_floating(out.dtype(), "irfft", [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_same_v<T, float>) {
      fftwf_execute_dft_c2r(plan->single(), reinterpret_cast<fftwf_complex*>(spectrum.data<T>()),
                            out.data<T>());
    } else {
      fftw_execute_dft_c2r(plan->dual(), reinterpret_cast<fftw_complex*>(spectrum.data<T>()),
                           out.data<T>());
    }
    // FFTW's inverse is unnormalised; irfft is the true inverse of rfft.
    T* y = out.data<T>();
    const T scale = T(1) / static_cast<T>(n);
#pragma omp parallel for simd if (total >= kParallelGrain) schedule(static)
    for (std::int64_t i = 0; i < total; ++i) y[i] *= scale;
  });
}

}  // namespace laplex::cpu
