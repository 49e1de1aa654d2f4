#pragma once
// The LAPLEX-OU NLL composed of engine ops (argsort, index_select, slices,
// elementwise, sum), so it runs on CPU and CUDA with autograd as is. It is
// the reference the fused CPU kernel (ou_nll_fused.h) is tested against.
//
// Sorted anchors p_1 <= ... <= p_n (stable: ties in index order), gaps
// g_k = p_k - p_{k-1}, r_k = exp(-alpha g_k), q_k = clamp(-expm1(-2 alpha g_k),
// eps, 1), y = ((x - mu) / d) in sorted order:
//   NLL = 0.5 (n log 2pi + 2 sum log d + sum_k log q_k
//              + y_1^2 + sum_k (y_k - r_k y_{k-1})^2 / q_k)
// O(n log n) for the sort, O(B n) memory for the temporaries.
#include "layers/covariance/ou_params.h"

namespace laplex {

// (B) NLL of each row of x (B, n); x and the parameters share dtype and device.
Tensor ou_nll_composed(const Tensor& x, const OuParams& params, double eps = kOuDefaultEps);

}  // namespace laplex
