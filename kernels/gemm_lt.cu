#include "kernels/gemm_lt.cuh"

#include <algorithm>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <utility>

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

// fp32 scale; the compute type as kernels::gemm's (gemm_compute_type).
cublasLtMatmulDesc_t matmul_desc(ElemType ab_type, GemmMath math) {
  cublasLtMatmulDesc_t desc = nullptr;
  AXF_CUBLAS_CHECK(cublasLtMatmulDescCreate(&desc, gemm_compute_type(ab_type, math), CUDA_R_32F));
  return desc;
}

// Every product's algorithm is pinned across row counts (select_algorithm): the one chosen for this many rows.
constexpr int64_t kPinnedRows = int64_t{1} << 16;
// ... and a batched product's, the one chosen for this many batches (a row-chunked caller may batch over its rows:
// the outer product mean's projection).
constexpr int64_t kPinnedBatch = 128;

}  // namespace

LtMatmul::LtMatmul() {
  AXF_CUBLAS_CHECK(cublasLtCreate(&handle_));
  AXF_CUDA_CHECK(cudaMalloc(&workspace_, kWorkspaceBytes));
  workspace_bytes_ = kWorkspaceBytes;
}

LtMatmul::~LtMatmul() {
  auto destroy = [](Plan& plan) {
    if (plan.desc) cublasLtMatmulDescDestroy(plan.desc);
    if (plan.a) cublasLtMatrixLayoutDestroy(plan.a);
    if (plan.b) cublasLtMatrixLayoutDestroy(plan.b);
    if (plan.c) cublasLtMatrixLayoutDestroy(plan.c);
  };
  for (auto& [key, plan] : plans_) destroy(plan);
  for (auto& [key, plan] : gemm_plans_) destroy(plan);
  if (workspace_) cudaFree(workspace_);
  if (handle_) cublasLtDestroy(handle_);
}

void LtMatmul::choose_algorithm(Plan& pl, int alignment) {
  cublasLtMatmulPreference_t pref = nullptr;
  AXF_CUBLAS_CHECK(cublasLtMatmulPreferenceCreate(&pref));
  AXF_CUBLAS_CHECK(cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES,
                                                        &workspace_bytes_, sizeof workspace_bytes_));
  // No split-K: each output element's dot product runs in one sequence, so a GEMM's rounding does not depend on
  // the number of rows it is given (chunked and unchunked runs can agree bit for bit, as issue 6 asks).
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
}

void LtMatmul::select_algorithm(Plan& pl, int alignment, const std::function<void(Plan&)>& pinned_layouts) {
  // The heuristic's choice for kPinnedRows rows, if it runs this problem too: the same kernel for every row count.
  Plan pinned;
  pinned.desc = pl.desc;
  pinned_layouts(pinned);
  choose_algorithm(pinned, alignment);
  for (cublasLtMatrixLayout_t layout : {pinned.a, pinned.b, pinned.c}) cublasLtMatrixLayoutDestroy(layout);
  cublasLtMatmulHeuristicResult_t check{};
  if (pinned.ok &&
      cublasLtMatmulAlgoCheck(handle_, pl.desc, pl.a, pl.b, pl.c, pl.c, &pinned.algo, &check) ==
          CUBLAS_STATUS_SUCCESS &&
      check.workspaceSize <= workspace_bytes_) {
    pl.algo = pinned.algo;
    pl.ok = true;
    return;
  }
  choose_algorithm(pl, alignment);
}

LtMatmul::Plan& LtMatmul::plan(const LtLinearParams& p, int alignment) {
  const Key key{p.m, p.n, p.k, p.ldx, p.ldo, static_cast<int>(p.ab_type), static_cast<int>(p.out_type),
                static_cast<int>(p.math), p.bias != nullptr, p.relu, p.accumulate ? 1 : 0, alignment,
                static_cast<int>(p.bias_type)};
  auto it = plans_.find(key);
  if (it != plans_.end()) return it->second;
  Plan& pl = plans_[key];
  pl.desc = matmul_desc(p.ab_type, p.math);
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
  set_layouts(pl, p);
  select_algorithm(pl, alignment, [&](Plan& pinned) {
    LtLinearParams q = p;
    q.m = kPinnedRows;
    set_layouts(pinned, q);
  });
  return pl;
}

void LtMatmul::set_layouts(Plan& pl, const LtLinearParams& p) {
  // Column-major: A = w^T [n, k] (ld n), B = x^T [k, m] (ld ldx), C = D = out^T [n, m] (ld ldo).
  AXF_CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&pl.a, lt_type(p.ab_type), static_cast<uint64_t>(p.n),
                                              static_cast<uint64_t>(p.k), p.n));
  AXF_CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&pl.b, lt_type(p.ab_type), static_cast<uint64_t>(p.k),
                                              static_cast<uint64_t>(p.m), p.ldx));
  AXF_CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&pl.c, lt_type(p.out_type), static_cast<uint64_t>(p.n),
                                              static_cast<uint64_t>(p.m), p.ldo));
}

bool LtMatmul::run(const LtLinearParams& p, cudaStream_t stream) {
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

LtMatmul::Plan& LtMatmul::plan(const GemmParams& p, int alignment) {
  const GemmKey key{p.trans_a, p.trans_b, p.m, p.n, p.k, p.lda, p.ldb, p.ldc, p.stride_a, p.stride_b, p.stride_c,
                    p.batch, static_cast<int>(p.ab_type), static_cast<int>(p.c_type), static_cast<int>(p.math),
                    alignment};
  auto it = gemm_plans_.find(key);
  if (it != gemm_plans_.end()) return it->second;
  Plan& pl = gemm_plans_[key];
  pl.desc = matmul_desc(p.ab_type, p.math);
  // Column-major view, as kernels::gemm: C^T [n, m] = op(B)^T [n, k] @ op(A)^T [k, m], so cuBLASLt's A is our B
  // (stored [k, n] row-major = [n, k] column-major, or its transpose) and its B is our A.
  const cublasOperation_t op_lt_a = p.trans_b ? CUBLAS_OP_T : CUBLAS_OP_N;
  const cublasOperation_t op_lt_b = p.trans_a ? CUBLAS_OP_T : CUBLAS_OP_N;
  AXF_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(pl.desc, CUBLASLT_MATMUL_DESC_TRANSA, &op_lt_a, sizeof op_lt_a));
  AXF_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(pl.desc, CUBLASLT_MATMUL_DESC_TRANSB, &op_lt_b, sizeof op_lt_b));
  set_layouts(pl, p);
  select_algorithm(pl, alignment, [&](Plan& pinned) {
    // The same problem at kPinnedRows rows (and kPinnedBatch batches if batched), its leading dimension and batch
    // strides widened where the rows would no longer fit (only the heuristic sees it): a function of everything but
    // m and the batch count.
    GemmParams q = p;
    q.m = kPinnedRows;
    if (p.batch > 1 || p.stride_a != 0 || p.stride_b != 0 || p.stride_c != 0) q.batch = kPinnedBatch;
    if (q.trans_a) q.lda = std::max(q.lda, q.m);
    if (q.stride_a != 0) q.stride_a = std::max(q.stride_a, q.lda * (q.trans_a ? q.k : q.m));
    if (q.stride_c != 0) q.stride_c = std::max(q.stride_c, q.ldc * q.m);
    set_layouts(pinned, q);
  });
  return pl;
}

void LtMatmul::set_layouts(Plan& pl, const GemmParams& p) {
  const auto u = [](int64_t v) { return static_cast<uint64_t>(v); };
  AXF_CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&pl.a, lt_type(p.ab_type), p.trans_b ? u(p.k) : u(p.n),
                                              p.trans_b ? u(p.n) : u(p.k), p.ldb));
  AXF_CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&pl.b, lt_type(p.ab_type), p.trans_a ? u(p.m) : u(p.k),
                                              p.trans_a ? u(p.k) : u(p.m), p.lda));
  AXF_CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&pl.c, lt_type(p.c_type), u(p.n), u(p.m), p.ldc));
  if (p.batch > 1) {
    const int32_t batch = static_cast<int32_t>(p.batch);
    const std::pair<cublasLtMatrixLayout_t, int64_t> layouts[] = {{pl.a, p.stride_b}, {pl.b, p.stride_a},
                                                                  {pl.c, p.stride_c}};
    for (const auto& [layout, stride] : layouts) {
      AXF_CUBLAS_CHECK(
          cublasLtMatrixLayoutSetAttribute(layout, CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT, &batch, sizeof batch));
      AXF_CUBLAS_CHECK(cublasLtMatrixLayoutSetAttribute(layout, CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET, &stride,
                                                        sizeof stride));
    }
  }
}

bool LtMatmul::run(const GemmParams& p, cudaStream_t stream) {
  if (p.m == 0 || p.n == 0 || p.batch == 0) return true;
  if (p.k == 0 || p.batch > INT32_MAX) return false;
  // Every batch's operands must keep the alignment the heuristic is told: the base pointers and the batch strides.
  const size_t ab = p.ab_type == ElemType::BF16 ? 2 : 4, cb = p.c_type == ElemType::BF16 ? 2 : 4;
  int alignment = std::min({pointer_alignment(p.a), pointer_alignment(p.b), pointer_alignment(p.c)});
  if (p.batch > 1)
    for (const size_t bytes : {static_cast<size_t>(p.stride_a) * ab, static_cast<size_t>(p.stride_b) * ab,
                               static_cast<size_t>(p.stride_c) * cb})
      alignment = std::min(alignment, pointer_alignment(reinterpret_cast<const void*>(bytes)));
  Plan& pl = plan(p, alignment);
  if (!pl.ok) return false;
  AXF_CUBLAS_CHECK(cublasLtMatmul(handle_, pl.desc, &p.alpha, p.b, pl.a, p.a, pl.b, &p.beta, p.c, pl.c, p.c, pl.c,
                                  &pl.algo, workspace_, workspace_bytes_, stream));
  return true;
}

}  // namespace axf::kernels
