// Row-major fp32 GEMM through cuBLAS (true fp32: CUBLAS_COMPUTE_32F under the default math mode, never TF32):
//   C[b] = alpha * op(A[b]) @ op(B[b]) + beta * C[b],  b < batch, A[b] = a + b * stride_a (element strides)
// Row-major operands are handed to column-major cuBLAS as their transposes (C^T = op(B)^T op(A)^T), so no copy.
#pragma once

#include <cublas_v2.h>

#include <cstdint>

namespace axf::kernels {

struct GemmParams {
  bool trans_a = false, trans_b = false;
  int64_t m = 0, n = 0, k = 0;  // C is [m, n]; op(A) [m, k]; op(B) [k, n]
  float alpha = 1.f, beta = 0.f;
  const float* a = nullptr;
  int64_t lda = 0, stride_a = 0;  // lda: element distance between rows of A as stored
  const float* b = nullptr;
  int64_t ldb = 0, stride_b = 0;
  float* c = nullptr;
  int64_t ldc = 0, stride_c = 0;
  int64_t batch = 1;
};

// Checks the leading dimensions (naming `what` in errors) and runs the GEMM on the handle's stream.
void gemm_f32(cublasHandle_t handle, const GemmParams& p, const char* what);

}  // namespace axf::kernels
