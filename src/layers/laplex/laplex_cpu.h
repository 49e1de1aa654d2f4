#pragma once
// The CPU LAPLEX kernels on raw buffers (laplex-math.md sections 2 and 3):
// the forward y = W x, the transposed apply W^T g and every gradient, each
// a few linear scans over a plan's merged anchors. The batch is laid out
// lane-major inside a scan, so one event updates a run of contiguous batch
// values; threads split the batch. Memory: O(H (m + n) + B (m + n)).
#include "layers/laplex/laplex_plan.h"
#include "layers/laplex/laplex_shape.h"

namespace laplex::cpu {

// y (B, m) = x (B, n) W^T, summed over heads; no bias.
template <class T>
void laplex_forward(const LaplexPlan<T>& plan, const LaplexShape& shape,
                    const LaplexParamPtrs<T>& params, const T* x, T* y);

// out (B, n) = g (B, m) W: the transposed operator.
template <class T>
void laplex_apply_transposed(const LaplexPlan<T>& plan, const LaplexShape& shape,
                             const LaplexParamPtrs<T>& params, const T* g, T* out);

// Gradients of L = sum(gy * y) for y = forward(x); see LaplexGradPtrs for
// which are computed. The forward sums are recomputed, not stored.
template <class T>
void laplex_backward(const LaplexPlan<T>& plan, const LaplexShape& shape,
                     const LaplexParamPtrs<T>& params, const T* x, const T* gy,
                     const LaplexGradPtrs<T>& grads);

}  // namespace laplex::cpu
