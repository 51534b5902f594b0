#include "kernels/gemm.cuh"

#include <algorithm>

#include "backend/cuda/cuda_check.h"

namespace axf::kernels {

void gemm_f32(cublasHandle_t handle, const GemmParams& p, const char* what) {
  if (p.m == 0 || p.n == 0 || p.batch == 0) return;
  // Stored row-major shapes: A is [m, k] (or [k, m] transposed), B is [k, n] (or [n, k]), C is [m, n].
  const int64_t a_cols = p.trans_a ? p.m : p.k, b_cols = p.trans_b ? p.k : p.n;
  AXF_CHECK(p.lda >= std::max<int64_t>(1, a_cols), what, ": leading dimension ", p.lda, " of A is below its ",
            a_cols, " columns");
  AXF_CHECK(p.ldb >= std::max<int64_t>(1, b_cols), what, ": leading dimension ", p.ldb, " of B is below its ",
            b_cols, " columns");
  AXF_CHECK(p.ldc >= std::max<int64_t>(1, p.n), what, ": leading dimension ", p.ldc, " of C is below its ", p.n,
            " columns");
  const cublasOperation_t op_a = p.trans_a ? CUBLAS_OP_T : CUBLAS_OP_N;
  const cublasOperation_t op_b = p.trans_b ? CUBLAS_OP_T : CUBLAS_OP_N;
  // Column-major view: C^T[n, m] = op(B)^T[n, k] @ op(A)^T[k, m].
  AXF_CUBLAS_CHECK(cublasGemmStridedBatchedEx_64(handle, op_b, op_a, p.n, p.m, p.k, &p.alpha, p.b, CUDA_R_32F, p.ldb,
                                                 p.stride_b, p.a, CUDA_R_32F, p.lda, p.stride_a, &p.beta, p.c,
                                                 CUDA_R_32F, p.ldc, p.stride_c, p.batch, CUBLAS_COMPUTE_32F,
                                                 CUBLAS_GEMM_DEFAULT));
}

}  // namespace axf::kernels
