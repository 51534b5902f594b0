#include "kernels/gemm.cuh"

#include <algorithm>

#include "backend/cuda/cuda_check.h"
#include "kernels/gemm_lt.cuh"

namespace axf::kernels {

namespace {
cudaDataType_t cuda_type(ElemType t, const char* what) {
  switch (t) {
    case ElemType::F32: return CUDA_R_32F;
    case ElemType::BF16: return CUDA_R_16BF;
    default: AXF_FAIL(what, ": GEMM operands must be fp32 or bf16");
  }
}
}  // namespace

void gemm(const GemmEngine& engine, const GemmParams& p, const char* what) {
  if (p.m == 0 || p.n == 0 || p.batch == 0) return;
  // Stored row-major shapes: A is [m, k] (or [k, m] transposed), B is [k, n] (or [n, k]), C is [m, n].
  const int64_t a_cols = p.trans_a ? p.m : p.k, b_cols = p.trans_b ? p.k : p.n;
  AXF_CHECK(p.lda >= std::max<int64_t>(1, a_cols), what, ": leading dimension ", p.lda, " of A is below its ",
            a_cols, " columns");
  AXF_CHECK(p.ldb >= std::max<int64_t>(1, b_cols), what, ": leading dimension ", p.ldb, " of B is below its ",
            b_cols, " columns");
  AXF_CHECK(p.ldc >= std::max<int64_t>(1, p.n), what, ": leading dimension ", p.ldc, " of C is below its ", p.n,
            " columns");
  const cudaDataType_t ab = cuda_type(p.ab_type, what), c = cuda_type(p.c_type, what);
  AXF_CHECK(!(p.ab_type == ElemType::F32 && p.c_type != ElemType::F32), what,
            ": fp32 operands need an fp32 result");
  if (engine.lt && engine.lt->run(p, engine.stream)) return;  // split-K free, algorithm pinned across row counts
  const cublasComputeType_t compute = gemm_compute_type(p.ab_type, p.math);
  const cublasOperation_t op_a = p.trans_a ? CUBLAS_OP_T : CUBLAS_OP_N;
  const cublasOperation_t op_b = p.trans_b ? CUBLAS_OP_T : CUBLAS_OP_N;
  // Column-major view: C^T[n, m] = op(B)^T[n, k] @ op(A)^T[k, m].
  AXF_CUBLAS_CHECK(cublasGemmStridedBatchedEx_64(engine.cublas, op_b, op_a, p.n, p.m, p.k, &p.alpha, p.b, ab, p.ldb,
                                                 p.stride_b, p.a, ab, p.lda, p.stride_a, &p.beta, p.c, c, p.ldc,
                                                 p.stride_c, p.batch, compute, CUBLAS_GEMM_DEFAULT));
}

}  // namespace axf::kernels
