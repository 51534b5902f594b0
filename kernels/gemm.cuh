// Row-major GEMM through cuBLASLt (cuBLAS where it offers no algorithm) with fp32 accumulation:
//   C[b] = alpha * op(A[b]) @ op(B[b]) + beta * C[b],  b < batch, A[b] = a + b * stride_a (element strides)
// A and B are both fp32 or both bf16; C is fp32 or bf16. fp32 operands run in true fp32 (CUBLAS_COMPUTE_32F, never
// TF32) unless math is Tf32; bf16 operands run on the tensor cores. Row-major operands are handed to
// column-major cuBLAS as their transposes (C^T = op(B)^T op(A)^T), so no copy.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime_api.h>

#include <cstdint>

#include "kernels/copy.cuh"

namespace axf::kernels {

enum class GemmMath { Fp32, Tf32 };  // how fp32 operands are multiplied

struct GemmParams {
  bool trans_a = false, trans_b = false;
  int64_t m = 0, n = 0, k = 0;  // C is [m, n]; op(A) [m, k]; op(B) [k, n]
  float alpha = 1.f, beta = 0.f;
  const void* a = nullptr;
  int64_t lda = 0, stride_a = 0;  // lda: element distance between rows of A as stored
  const void* b = nullptr;
  int64_t ldb = 0, stride_b = 0;
  void* c = nullptr;
  int64_t ldc = 0, stride_c = 0;
  int64_t batch = 1;
  ElemType ab_type = ElemType::F32;  // of A and B
  ElemType c_type = ElemType::F32;
  GemmMath math = GemmMath::Fp32;
};

// fp32 accumulation; TF32 products only when math asks for them with fp32 operands (cuBLAS and cuBLASLt alike).
inline cublasComputeType_t gemm_compute_type(ElemType ab_type, GemmMath math) {
  return ab_type == ElemType::F32 && math == GemmMath::Tf32 ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F;
}

class LtMatmul;

// Where the GEMMs run: the cuBLAS handle (bound to `stream`) and, when the backend has one, cuBLASLt, which takes
// every product it offers an algorithm for (split-K free, the algorithm pinned across row counts, so a row-chunked
// caller gets the unchunked results bit for bit; gemm_lt.cuh).
struct GemmEngine {
  cublasHandle_t cublas = nullptr;
  LtMatmul* lt = nullptr;
  cudaStream_t stream = nullptr;
};

// Checks the leading dimensions and types (naming `what` in errors) and runs the GEMM on the engine's stream:
// through cuBLASLt where it offers an algorithm, else through cuBLAS.
void gemm(const GemmEngine& engine, const GemmParams& p, const char* what);

}  // namespace axf::kernels
