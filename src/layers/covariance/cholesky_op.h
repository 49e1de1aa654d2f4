#pragma once
// Small dense linear algebra with autograd for the Gaussian baselines:
// the Cholesky factor of a k x k matrix (PPCA's Woodbury capacitance) and
// the lower-triangular solve (PPCA and the full-covariance model).
//
// CPU: float32/float64, the factorisation by plain loops (k is small: cubic
// in k, negligible next to the O(n k) products around it), the solves by
// BLAS trsm. CUDA: a documented host round trip (copy to the CPU, compute,
// copy back); fine for PPCA's k x k matrix, and the full model's n x n solve
// is the baseline that does not scale anyway.
#include "core/tensor.h"

namespace laplex {

// L lower triangular with L L^T = sym(A) = (A + A^T)/2, for A (k, k)
// symmetric positive definite (Error otherwise). The gradient is the
// symmetric G = sym(L^{-T} Phi(L^T dL) L^{-1}), Phi = lower triangle with
// the diagonal halved (Murray 2016, derived from dA = dL L^T + L dL^T).
Tensor cholesky(const Tensor& a);

// X = L^{-1} B for L (k, k) lower triangular (the strictly upper part is
// ignored and gets no gradient) and B (k, m). Gradients: dB = L^{-T} dX,
// dL = -tril(dB X^T).
Tensor triangular_solve(const Tensor& l, const Tensor& b);

}  // namespace laplex
