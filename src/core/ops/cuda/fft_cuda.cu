// cuFFT backend of the real FFTs. Plans are cached per (device, n, batch,
// dtype, direction) like the FFTW ones (see fft.h), up to kMaxPlans, and
// dropped to make room when cuFFT runs out of memory; their workspaces come
// from the caching allocator for the duration of one call, ordered on the
// device's compute stream like every other laplex kernel.
#include <cufft.h>

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <type_traits>

#include "core/cuda/cuda_allocator.h"
#include "core/cuda/cuda_context.h"
#include "core/ops/fft_kernels.h"

namespace laplex::cuda {

namespace {

void check_cufft(cufftResult status, const char* what) {
  if (status != CUFFT_SUCCESS)
    throw Error(std::string("cuFFT: ") + what + " failed (cufftResult " +
                std::to_string(static_cast<int>(status)) + ")");
}

struct PlanKey {
  int device = 0;
  std::int64_t n = 0, batch = 0;
  DType dtype = DType::f32;
  bool inverse = false;
  auto operator<=>(const PlanKey&) const = default;
};

// Distinct plans are few in practice (training, last and eval batches);
// past this many the cache starts over rather than grow, as the FFTW one
// does. A plan keeps device memory of its own (twiddles), so a sweep over
// many lengths would otherwise pile them up.
constexpr std::size_t kMaxPlans = 64;

// A cuFFT plan without its own workspace. `use` serialises calls that share
// the plan, since each call binds a stream and a work area to it.
struct CufftPlan {
  cufftHandle handle = 0;
  int device = 0;
  std::size_t workspace = 0;
  std::mutex use;

  CufftPlan() = default;
  CufftPlan(const CufftPlan&) = delete;
  CufftPlan& operator=(const CufftPlan&) = delete;
  // Only evicted plans are destroyed (the cache itself never is, so no plan
  // outlives the CUDA runtime). Transforms queued with the plan may still be
  // running: wait for them before its memory goes back. A failed wait (a
  // broken device) cannot be reported from a destructor.
  ~CufftPlan() {
    if (!handle) return;
    if (cudaSetDevice(device) == cudaSuccess) cudaDeviceSynchronize();
    cufftDestroy(handle);
  }
};

class CufftPlanCache {
 public:
  std::shared_ptr<CufftPlan> get(const PlanKey& key) {
    // Declared before the lock: evicted plans are destroyed (and wait for
    // the device) after it is released.
    std::map<PlanKey, std::shared_ptr<CufftPlan>> evicted;
    std::lock_guard<std::mutex> lock(mutex_);
    auto found = plans_.find(key);
    if (found != plans_.end()) return found->second;
    if (plans_.size() >= kMaxPlans) evicted.swap(plans_);
    std::shared_ptr<CufftPlan> plan = create(key);
    if (!plan) {
      // Out of device memory: what other plans and the caching allocator
      // hold may be what is missing. Plans in use elsewhere stay alive
      // through their shared_ptr; the rest go, then the planner runs again.
      evicted.merge(plans_);
      for (auto& [k, p] : evicted) p.reset();
      release_cached(key.device);
      plan = create(key);
      if (!plan)
        throw OutOfMemory("cuFFT: not enough device memory to plan " + std::to_string(key.batch) +
                          " transforms of length " + std::to_string(key.n) + " on cuda:" +
                          std::to_string(key.device));
    }
    plans_.emplace(key, plan);
    return plan;
  }

 private:
  // Null when cuFFT runs out of device memory; throws on any other failure.
  static std::shared_ptr<CufftPlan> create(const PlanKey& key) {
    stream(key.device);  // makes the device current: plans belong to it
    auto plan = std::make_shared<CufftPlan>();
    plan->device = key.device;
    check_cufft(cufftCreate(&plan->handle), "cufftCreate");
    check_cufft(cufftSetAutoAllocation(plan->handle, 0), "cufftSetAutoAllocation");
    long long n = key.n;
    long long k_count = key.n / 2 + 1;
    const bool single = key.dtype == DType::f32;
    const cufftType type = key.inverse ? (single ? CUFFT_C2R : CUFFT_Z2D)
                                       : (single ? CUFFT_R2C : CUFFT_D2Z);
    // Rows are packed: signals n reals apart, spectra n/2 + 1 bins apart.
    long long* in_embed = key.inverse ? &k_count : &n;
    long long* out_embed = key.inverse ? &n : &k_count;
    const long long in_dist = key.inverse ? k_count : n;
    const long long out_dist = key.inverse ? n : k_count;
    std::size_t workspace = 0;
    // The 64-bit planner, so batch * n may pass 2^31.
    const cufftResult made =
        cufftMakePlanMany64(plan->handle, 1, &n, in_embed, 1, in_dist, out_embed, 1, out_dist,
                            type, static_cast<long long>(key.batch), &workspace);
    if (made == CUFFT_ALLOC_FAILED) {
      cudaGetLastError();  // clear the failed allocation's error for later checks
      return nullptr;      // the plan's destructor destroys the handle
    }
    if (made != CUFFT_SUCCESS) check_cufft(made, "cufftMakePlanMany");
    plan->workspace = workspace;
    return plan;
  }

  std::mutex mutex_;
  std::map<PlanKey, std::shared_ptr<CufftPlan>> plans_;
};

CufftPlanCache& plan_cache() {
  static CufftPlanCache* cache = new CufftPlanCache();  // never destroyed, see get()
  return *cache;
}

// A workspace from the caching allocator, returned when the call ends; the
// allocator's stream ordering makes the early return safe.
class Workspace {
 public:
  Workspace(std::size_t bytes, int device) : bytes_(bytes), device_(device) {
    if (bytes_ > 0) ptr_ = allocate(bytes_, device_);
  }
  ~Workspace() {
    if (ptr_) deallocate(ptr_, bytes_, device_);
  }
  Workspace(const Workspace&) = delete;
  Workspace& operator=(const Workspace&) = delete;
  void* get() const { return ptr_; }

 private:
  void* ptr_ = nullptr;
  std::size_t bytes_;
  int device_;
};

// Runs `exec(handle)` with the plan bound to the device's stream and a workspace.
template <class Exec>
void run_plan(const PlanKey& key, Exec exec) {
  const auto plan = plan_cache().get(key);
  std::lock_guard<std::mutex> lock(plan->use);
  check_cufft(cufftSetStream(plan->handle, stream(key.device)), "cufftSetStream");
  Workspace workspace(plan->workspace, key.device);
  if (workspace.get()) check_cufft(cufftSetWorkArea(plan->handle, workspace.get()), "cufftSetWorkArea");
  exec(plan->handle);
}

template <class T>
__global__ void scale_kernel(T* y, T scale, std::int64_t count) {
  for (std::int64_t i = blockIdx.x * (std::int64_t)blockDim.x + threadIdx.x; i < count;
       i += (std::int64_t)gridDim.x * blockDim.x)
    y[i] *= scale;
}

}  // namespace

void rfft(const Tensor& x, const Tensor& out, std::int64_t batch, std::int64_t n) {
  const PlanKey key{x.device().index, n, batch, x.dtype(), false};
  run_plan(key, [&](cufftHandle handle) {
    if (x.dtype() == DType::f32) {
      check_cufft(cufftExecR2C(handle, x.data<float>(),
                               reinterpret_cast<cufftComplex*>(out.data<float>())),
                  "cufftExecR2C");
    } else {
      check_cufft(cufftExecD2Z(handle, x.data<double>(),
                               reinterpret_cast<cufftDoubleComplex*>(out.data<double>())),
                  "cufftExecD2Z");
    }
  });
}

void irfft(const Tensor& spectrum, const Tensor& out, std::int64_t batch, std::int64_t n) {
  const int device = out.device().index;
  const PlanKey key{device, n, batch, out.dtype(), true};
  run_plan(key, [&](cufftHandle handle) {
    if (out.dtype() == DType::f32) {
      check_cufft(cufftExecC2R(handle, reinterpret_cast<cufftComplex*>(spectrum.data<float>()),
                               out.data<float>()),
                  "cufftExecC2R");
    } else {
      check_cufft(cufftExecZ2D(handle,
                               reinterpret_cast<cufftDoubleComplex*>(spectrum.data<double>()),
                               out.data<double>()),
                  "cufftExecZ2D");
    }
  });
  // cuFFT's inverse is unnormalised; irfft is the true inverse of rfft.
  const std::int64_t count = batch * n;
  visit_floating(out.dtype(), "irfft", [&](auto tag) {
    using T = decltype(tag);
    scale_kernel<<<grid_for(count), kBlock, 0, stream(device)>>>(
        out.data<T>(), T(1) / static_cast<T>(n), count);
  });
  check_launch("irfft scale_kernel");
}

}  // namespace laplex::cuda
