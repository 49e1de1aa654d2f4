#include "core/cuda/cuda_context.h"
#include "core/ops/gemm.h"

namespace laplex::cuda {

// cuBLAS is column-major. A row-major (M, N) matrix C is the column-major
// (N, M) matrix C^T, and C = A B is C^T = B^T A^T: so we ask cuBLAS for
// B' A' with the operands swapped, each keeping its own transpose flag.
void gemm(const GemmCall& c, const Tensor& out) {
  const int device = out.device().index;
  cublasHandle_t handle = cublas(device);
  const cublasOperation_t ob = c.b.transposed ? CUBLAS_OP_T : CUBLAS_OP_N;
  const cublasOperation_t oa = c.a.transposed ? CUBLAS_OP_T : CUBLAS_OP_N;
  const int m = static_cast<int>(c.n), n = static_cast<int>(c.m), k = static_cast<int>(c.k);
  const int lda = static_cast<int>(c.b.ld), ldb = static_cast<int>(c.a.ld), ldc = m;
  if (out.dtype() == DType::f32) {
    const float alpha = static_cast<float>(c.alpha), beta = static_cast<float>(c.beta);
    check(cublasSgemmStridedBatched(handle, ob, oa, m, n, k, &alpha, c.b.tensor.data<float>(), lda,
                                    c.stride_b, c.a.tensor.data<float>(), ldb, c.stride_a, &beta,
                                    out.data<float>(), ldc, c.stride_out, static_cast<int>(c.batch)),
          "cublasSgemmStridedBatched");
  } else if (out.dtype() == DType::f64) {
    const double alpha = c.alpha, beta = c.beta;
    check(cublasDgemmStridedBatched(handle, ob, oa, m, n, k, &alpha, c.b.tensor.data<double>(),
                                    lda, c.stride_b, c.a.tensor.data<double>(), ldb, c.stride_a,
                                    &beta, out.data<double>(), ldc, c.stride_out,
                                    static_cast<int>(c.batch)),
          "cublasDgemmStridedBatched");
  } else {
    throw Error("matmul: expected float32 or float64");
  }
}

}  // namespace laplex::cuda
