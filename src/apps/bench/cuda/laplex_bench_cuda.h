#pragma once
// The GPU half of `laplex-bench laplex --device cuda`: the CUDA LAPLEX plan,
// forward and forward + backward next to a cuFFT real FFT + inverse of every
// batch row and a cuBLAS sgemm with the stored matrix, in one run.
#include "layers/laplex/laplex_shape.h"

namespace laplex::bench {

struct CudaLaplexTimings {
  double sort_ms = 0;       // the plan alone (CUB radix sort of the events)
  double fwd_ms = 0;        // plan + forward
  double fwdbwd_ms = 0;     // plan + forward + every gradient
  double fft_ms = 0;        // cuFFT r2c + c2r of the B rows, plan excluded
  double dense_ms = -1;     // cuBLAS sgemm; negative when W does not fit
  double copy_gb_per_s = 0; // device-to-device copy, bytes read + written
  double peak_bytes = 0;    // peak device memory of forward + backward
};

// Host inputs (x (B, n), gy (B, m), parameters) go to `device` first.
// Throws OutOfMemory when the row does not fit in the device's memory.
CudaLaplexTimings time_laplex_cuda(const LaplexShape& shape, const LaplexParamPtrs<float>& params,
                                   const float* x, const float* gy, int repeats,
                                   double dense_limit_gib, int device);

}  // namespace laplex::bench
