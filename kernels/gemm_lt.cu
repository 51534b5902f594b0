#include "kernels/gemm_lt.cuh"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "backend/cuda/cuda_check.h"

namespace axf::kernels {

namespace {

constexpr size_t kWorkspaceBytes = size_t{32} << 20;

cudaDataType_t lt_type(ElemType t) { return t == ElemType::BF16 ? CUDA_R_16BF : CUDA_R_32F; }

// Largest power of two (<= 256) dividing the address: what the heuristic may assume of a pointer.
int pointer_alignment(const void* p) {
  const uintptr_t a = reinterpret_cast<uintptr_t>(p);
  int align = 256;
  while (align > 1 && a % static_cast<uintptr_t>(align) != 0) align /= 2;
  return align;
}

}  // namespace

LtLinear::LtLinear() {
  AXF_CUBLAS_CHECK(cublasLtCreate(&handle_));
  AXF_CUDA_CHECK(cudaMalloc(&workspace_, kWorkspaceBytes));
  workspace_bytes_ = kWorkspaceBytes;
}

LtLinear::~LtLinear() {
  for (auto& [key, plan] : plans_) {
    if (plan.desc) cublasLtMatmulDescDestroy(plan.desc);
    if (plan.a) cublasLtMatrixLayoutDestroy(plan.a);
    if (plan.b) cublasLtMatrixLayoutDestroy(plan.b);
    if (plan.c) cublasLtMatrixLayoutDestroy(plan.c);
  }
  if (workspace_) cudaFree(workspace_);
  if (handle_) cublasLtDestroy(handle_);
}

LtLinear::Plan& LtLinear::plan(const LtLinearParams& p, int alignment) {
  const Key key{p.m, p.n, p.k, p.ldx, p.ldo, static_cast<int>(p.ab_type), static_cast<int>(p.out_type),
                static_cast<int>(p.math), p.bias != nullptr, p.relu, p.accumulate ? 1 : 0, alignment,
                static_cast<int>(p.bias_type)};
  auto it = plans_.find(key);
  if (it != plans_.end()) return it->second;
  Plan& pl = plans_[key];
  const cublasComputeType_t compute = (p.ab_type == ElemType::F32 && p.math == GemmMath::Tf32)
                                          ? CUBLAS_COMPUTE_32F_FAST_TF32
                                          : CUBLAS_COMPUTE_32F;
  AXF_CUBLAS_CHECK(cublasLtMatmulDescCreate(&pl.desc, compute, CUDA_R_32F));
  cublasLtEpilogue_t epilogue = CUBLASLT_EPILOGUE_DEFAULT;
  if (p.bias) epilogue = p.relu ? CUBLASLT_EPILOGUE_RELU_BIAS : CUBLASLT_EPILOGUE_BIAS;
  else if (p.relu) epilogue = CUBLASLT_EPILOGUE_RELU;
  AXF_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(pl.desc, CUBLASLT_MATMUL_DESC_EPILOGUE, &epilogue, sizeof epilogue));
  if (p.bias) {
    const cudaDataType_t bias_type = lt_type(p.bias_type);
    AXF_CUBLAS_CHECK(
        cublasLtMatmulDescSetAttribute(pl.desc, CUBLASLT_MATMUL_DESC_BIAS_DATA_TYPE, &bias_type, sizeof bias_type));
    AXF_CUBLAS_CHECK(
        cublasLtMatmulDescSetAttribute(pl.desc, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &p.bias, sizeof p.bias));
  }
  // Column-major: A = w^T [n, k] (ld n), B = x^T [k, m] (ld ldx), C = D = out^T [n, m] (ld ldo).
  AXF_CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&pl.a, lt_type(p.ab_type), static_cast<uint64_t>(p.n),
                                              static_cast<uint64_t>(p.k), p.n));
  AXF_CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&pl.b, lt_type(p.ab_type), static_cast<uint64_t>(p.k),
                                              static_cast<uint64_t>(p.m), p.ldx));
  AXF_CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&pl.c, lt_type(p.out_type), static_cast<uint64_t>(p.n),
                                              static_cast<uint64_t>(p.m), p.ldo));
  cublasLtMatmulPreference_t pref = nullptr;
  AXF_CUBLAS_CHECK(cublasLtMatmulPreferenceCreate(&pref));
  AXF_CUBLAS_CHECK(cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES,
                                                        &workspace_bytes_, sizeof workspace_bytes_));
  // No split-K: each output element's dot product runs in one sequence, so a GEMM's rounding does not depend on
  // the number of rows it is given (chunked and unchunked runs agree bit for bit, as issue 6 asks of fp32 runs).
  const uint32_t reduction = CUBLASLT_REDUCTION_SCHEME_NONE;
  AXF_CUBLAS_CHECK(cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_REDUCTION_SCHEME_MASK, &reduction,
                                                        sizeof reduction));
  const uint32_t align = static_cast<uint32_t>(alignment);
  for (auto attr : {CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES,
                    CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES})
    AXF_CUBLAS_CHECK(cublasLtMatmulPreferenceSetAttribute(pref, attr, &align, sizeof align));
  cublasLtMatmulHeuristicResult_t result{};
  int found = 0;
  const cublasStatus_t s =
      cublasLtMatmulAlgoGetHeuristic(handle_, pl.desc, pl.a, pl.b, pl.c, pl.c, pref, 1, &result, &found);
  cublasLtMatmulPreferenceDestroy(pref);
  pl.ok = s == CUBLAS_STATUS_SUCCESS && found > 0;
  if (pl.ok) pl.algo = result.algo;
  return pl;
}

bool LtLinear::run(const LtLinearParams& p, cudaStream_t stream) {
  if (p.m == 0 || p.n == 0) return true;
  if (p.k == 0) return false;
  if (p.bias && pointer_alignment(p.bias) < 16) return false;  // the epilogue's vector loads
  const int alignment = std::min({pointer_alignment(p.x), pointer_alignment(p.w), pointer_alignment(p.out)});
  Plan& pl = plan(p, alignment);
  if (!pl.ok) return false;
  if (p.bias)
    AXF_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(pl.desc, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &p.bias,
                                                    sizeof p.bias));
  const float alpha = 1.f, beta = p.accumulate ? 1.f : 0.f;
  AXF_CUBLAS_CHECK(cublasLtMatmul(handle_, pl.desc, &alpha, p.w, pl.a, p.x, pl.b, &beta, p.out, pl.c, p.out, pl.c,
                                  &pl.algo, workspace_, workspace_bytes_, stream));
  return true;
}

}  // namespace axf::kernels
