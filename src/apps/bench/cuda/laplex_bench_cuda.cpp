#include "apps/bench/cuda/laplex_bench_cuda.h"

#include <cublas_v2.h>
#include <cufft.h>

#include <string>

#include "apps/bench/bench.h"
#include "core/cuda/cuda_allocator.h"
#include "core/cuda/cuda_context.h"
#include "core/error.h"
#include "core/ops/view.h"
#include "core/tensor.h"
#include "layers/laplex/cuda/laplex_cuda.h"

namespace laplex::bench {

namespace {

Tensor upload(const float* values, std::int64_t count, int device) {
  Tensor t = Tensor::empty({count}, DType::f32, Device::cuda(device));
  if (count > 0) cuda::copy_bytes(t.raw_data(), true, values, false, count * sizeof(float), device);
  return t;
}

void check_cufft(cufftResult status, const char* what) {
  if (status == CUFFT_ALLOC_FAILED)
    throw OutOfMemory(std::string("laplex-bench: ") + what + ": out of GPU memory");
  if (status != CUFFT_SUCCESS)
    throw Error(std::string("laplex-bench: ") + what + " failed (cuFFT status " +
                std::to_string(static_cast<int>(status)) + ")");
}

// Destroys its plan however fft_ms ends: a plan that cannot get its work
// area throws OutOfMemory, and the row is measured again with a smaller batch.
class CufftPlan {
 public:
  CufftPlan() { check_cufft(cufftCreate(&handle_), "cufftCreate"); }
  ~CufftPlan() { cufftDestroy(handle_); }
  CufftPlan(const CufftPlan&) = delete;
  CufftPlan& operator=(const CufftPlan&) = delete;
  cufftHandle get() const { return handle_; }

 private:
  cufftHandle handle_ = 0;
};

// r2c then c2r of length n for every row; the plans are made before timing.
double fft_ms(std::int64_t n, std::int64_t batch, int repeats, int device) {
  const std::int64_t bins = n / 2 + 1;
  const Tensor real = Tensor::zeros({batch * n}, DType::f32, Device::cuda(device));
  const Tensor spectrum = Tensor::empty({batch * bins * 2}, DType::f32, Device::cuda(device));
  const CufftPlan forward, inverse;
  long long length = n;
  std::size_t work = 0;
  check_cufft(cufftMakePlanMany64(forward.get(), 1, &length, nullptr, 1, n, nullptr, 1, bins,
                                  CUFFT_R2C, batch, &work),
              "cufftMakePlanMany64 (r2c)");
  check_cufft(cufftMakePlanMany64(inverse.get(), 1, &length, nullptr, 1, bins, nullptr, 1, n,
                                  CUFFT_C2R, batch, &work),
              "cufftMakePlanMany64 (c2r)");
  cudaStream_t st = cuda::stream(device);
  cufftSetStream(forward.get(), st);
  cufftSetStream(inverse.get(), st);
  auto* in = static_cast<float*>(real.raw_data());
  auto* mid = static_cast<cufftComplex*>(spectrum.raw_data());
  const double ms = median_ms(
      [&] {
        check_cufft(cufftExecR2C(forward.get(), in, mid), "cufftExecR2C");
        check_cufft(cufftExecC2R(inverse.get(), mid, in), "cufftExecC2R");
      },
      repeats, 1, [&] { cuda::synchronize(device); });
  return ms;
}

double dense_ms(const LaplexShape& shape, const Tensor& x, double limit_gib, int repeats,
                int device) {
  const double bytes = 4.0 * static_cast<double>(shape.m) * static_cast<double>(shape.n);
  if (bytes > limit_gib * (1 << 30)) return -1;
  Tensor w, y;
  try {
    w = Tensor::full({shape.m * shape.n}, 0.001, DType::f32, Device::cuda(device));
    y = Tensor::empty({shape.batch * shape.m}, DType::f32, Device::cuda(device));
  } catch (const OutOfMemory&) {
    return -1;  // the stored matrix does not fit next to the row's other buffers
  }
  const float one = 1, zero = 0;
  // Row-major Y (B, m) = X (B, n) W^T is column-major Y^T = W X^T.
  return median_ms(
      [&] {
        cuda::check(cublasSgemm(cuda::cublas(device), CUBLAS_OP_T, CUBLAS_OP_N,
                                static_cast<int>(shape.m), static_cast<int>(shape.batch),
                                static_cast<int>(shape.n), &one,
                                static_cast<const float*>(w.raw_data()), static_cast<int>(shape.n),
                                static_cast<const float*>(x.raw_data()), static_cast<int>(shape.n),
                                &zero, static_cast<float*>(y.raw_data()), static_cast<int>(shape.m)),
                    "cublasSgemm");
      },
      repeats, 1, [&] { cuda::synchronize(device); });
}

double copy_gb_per_s(int device) {
  const std::int64_t count = std::int64_t{1} << 28;  // 1 GiB each way
  const Tensor a = Tensor::zeros({count}, DType::f32, Device::cuda(device));
  const Tensor b = Tensor::empty({count}, DType::f32, Device::cuda(device));
  const double ms = median_ms(
      [&] {
        cuda::check(cudaMemcpyAsync(b.raw_data(), a.raw_data(), count * 4,
                                    cudaMemcpyDeviceToDevice, cuda::stream(device)),
                    "cudaMemcpyAsync");
      },
      5, 1, [&] { cuda::synchronize(device); });
  return 2.0 * 4.0 * static_cast<double>(count) / ms / 1e6;
}

}  // namespace

CudaLaplexTimings time_laplex_cuda(const LaplexShape& shape, const LaplexParamPtrs<float>& params,
                                   const float* x_host, const float* gy_host, int repeats,
                                   double dense_limit_gib, int device) {
  CudaLaplexTimings out;
  auto sync = [&] { cuda::synchronize(device); };
  out.copy_gb_per_s = copy_gb_per_s(device);
  cuda::release_cached(device);
  {
    const std::int64_t tm = shape.heads * shape.m, sn = shape.heads * shape.n;
    const Tensor t = upload(params.t, tm, device), s = upload(params.s, sn, device);
    const Tensor u = params.u ? upload(params.u, tm, device) : Tensor();
    const Tensor v = params.v ? upload(params.v, sn, device) : Tensor();
    const Tensor rho = upload(params.rho, shape.heads, device);
    const Tensor omega = upload(params.omega, shape.heads, device);
    const Tensor phi = upload(params.phi, shape.heads, device);
    const Tensor x = upload(x_host, shape.batch * shape.n, device);
    const Tensor gy = upload(gy_host, shape.batch * shape.m, device);
    const Tensor ts = reshape(t, {shape.heads, shape.m}), ss = reshape(s, {shape.heads, shape.n});
    auto ptr = [](const Tensor& a) { return a.defined() ? static_cast<float*>(a.raw_data()) : nullptr; };
    const LaplexParamPtrs<float> dp{ptr(t), ptr(s), ptr(u), ptr(v), ptr(rho),
                                    shape.phased ? ptr(omega) : nullptr,
                                    shape.phased ? ptr(phi) : nullptr};
    const Tensor y = Tensor::empty({shape.batch * shape.m}, DType::f32, Device::cuda(device));
    out.sort_ms = median_ms([&] { cuda::make_laplex_plan_cuda(shape, ts, ss); }, repeats, 1, sync);
    out.fwd_ms = median_ms(
        [&] {
          const auto plan = cuda::make_laplex_plan_cuda(shape, ts, ss);
          cuda::laplex_forward_cuda<float>(plan, shape, dp, ptr(x), nullptr, ptr(y), device);
        },
        repeats, 1, sync);
    cuda::reset_peak(device);
    out.fwdbwd_ms = median_ms(
        [&] {
          const auto plan = cuda::make_laplex_plan_cuda(shape, ts, ss);
          cuda::laplex_forward_cuda<float>(plan, shape, dp, ptr(x), nullptr, ptr(y), device);
          const Tensor dx = Tensor::empty({shape.batch * shape.n}, DType::f32, Device::cuda(device));
          const Tensor dt = Tensor::empty({tm}, DType::f32, Device::cuda(device));
          const Tensor ds = Tensor::empty({sn}, DType::f32, Device::cuda(device));
          const Tensor du = u.defined() ? Tensor::empty({tm}, DType::f32, Device::cuda(device)) : Tensor();
          const Tensor dv = v.defined() ? Tensor::empty({sn}, DType::f32, Device::cuda(device)) : Tensor();
          const Tensor dscalars = Tensor::empty({3 * shape.heads}, DType::f32, Device::cuda(device));
          float* scalars = ptr(dscalars);
          const LaplexGradPtrs<float> grads{ptr(dx), ptr(dt), ptr(ds), ptr(du), ptr(dv), scalars,
                                            shape.phased ? scalars + shape.heads : nullptr,
                                            shape.phased ? scalars + 2 * shape.heads : nullptr};
          cuda::laplex_backward_cuda<float>(plan, shape, dp, ptr(x), ptr(gy), grads, device);
        },
        repeats, 1, sync);
    out.peak_bytes = static_cast<double>(cuda::allocator_stats(device).peak_in_use);
    out.dense_ms = dense_ms(shape, x, dense_limit_gib, repeats, device);
  }
  cuda::release_cached(device);
  out.fft_ms = fft_ms(shape.n, shape.batch, repeats, device);
  cuda::release_cached(device);
  return out;
}

}  // namespace laplex::bench
