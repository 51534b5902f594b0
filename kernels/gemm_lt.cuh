// GEMMs through cuBLASLt.
//  * Linear layers with the bias and ReLU fused into the GEMM's epilogue, so the output is written once instead of
//    written by the GEMM and then read and rewritten by a bias kernel:
//      out[m, n] (+)= act(x[m, k] @ w[k, n] + bias[n]),   act in {none, ReLU}, fp32 accumulation
//    x and w fp32 (true fp32, or TF32 when asked) or bf16; out fp32 or bf16; bias fp32, or bf16 with a bf16 out
//    (cuBLASLt offers no fp32 bias for bf16 outputs: the caller rounds the bias once). Row-major operands go to
//    column-major cuBLASLt as their transposes (out^T = w^T x^T: the bias runs along the rows of out^T).
//  * Batched strided GEMMs as kernels::gemm describes them (GemmParams): the triangle multiplication, the outer
//    product mean and the attention fallback.
// Every algorithm is split-K free (each output element's dot product runs in one sequence), and every product runs
// the algorithm chosen for 65,536 rows (and a batched one for 128 batches) whatever its row and batch counts (where
// cuBLASLt accepts it), so results do not depend on the row count a chunked caller passes (issue 6: chunked
// results equal unchunked ones, fp32 and bf16 alike).
// Plans (descriptors and the algorithm) are cached per shape, layout, dtype, epilogue and alignment.
#pragma once

#include <cublasLt.h>
#include <cuda_runtime_api.h>

#include <cstdint>
#include <functional>
#include <map>
#include <tuple>

#include "kernels/copy.cuh"
#include "kernels/gemm.cuh"

namespace axf::kernels {

struct LtLinearParams {
  int64_t m = 0, n = 0, k = 0;       // out is [m, n]
  const void* x = nullptr;           // [m, k], row stride ldx
  int64_t ldx = 0;
  const void* w = nullptr;           // [k, n] contiguous
  void* out = nullptr;               // [m, n], row stride ldo
  int64_t ldo = 0;
  ElemType ab_type = ElemType::F32;  // of x and w
  ElemType out_type = ElemType::F32;
  const void* bias = nullptr;        // [n] or nullptr, bias_type
  ElemType bias_type = ElemType::F32;
  bool relu = false;
  bool accumulate = false;           // out += ... (beta = 1, in place)
  GemmMath math = GemmMath::Fp32;
};

class LtMatmul {
 public:
  LtMatmul();
  ~LtMatmul();
  LtMatmul(const LtMatmul&) = delete;
  LtMatmul& operator=(const LtMatmul&) = delete;

  // One cuBLASLt call on `stream`; false (nothing launched) when cuBLASLt offers no algorithm for the problem,
  // so the caller takes its unfused path. Errors of a launched call throw.
  bool run(const LtLinearParams& p, cudaStream_t stream);
  // C[b] = alpha op(A[b]) op(B[b]) + beta C[b] (GemmParams, row-major, leading dimensions already checked); false
  // (nothing launched) when cuBLASLt offers no algorithm.
  bool run(const GemmParams& p, cudaStream_t stream);

 private:
  struct Plan {
    bool ok = false;
    cublasLtMatmulDesc_t desc = nullptr;
    cublasLtMatrixLayout_t a = nullptr, b = nullptr, c = nullptr;
    cublasLtMatmulAlgo_t algo{};
  };
  using Key = std::tuple<int64_t, int64_t, int64_t, int64_t, int64_t, int, int, int, bool, bool, int, int, int>;
  using GemmKey = std::tuple<bool, bool, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t,
                             int64_t, int64_t, int, int, int, int>;
  Plan& plan(const LtLinearParams& p, int alignment);
  Plan& plan(const GemmParams& p, int alignment);
  void set_layouts(Plan& pl, const LtLinearParams& p);
  void set_layouts(Plan& pl, const GemmParams& p);
  // The heuristic's best split-K-free algorithm for the plan's descriptors (pl.ok false when there is none).
  void choose_algorithm(Plan& pl, int alignment);
  // The algorithm chosen for the same problem at kPinnedRows rows (layouts from pinned_layouts), when cuBLASLt
  // accepts it for this one; else choose_algorithm.
  void select_algorithm(Plan& pl, int alignment, const std::function<void(Plan&)>& pinned_layouts);

  cublasLtHandle_t handle_ = nullptr;
  void* workspace_ = nullptr;
  size_t workspace_bytes_ = 0;
  std::map<Key, Plan> plans_;
  std::map<GemmKey, Plan> gemm_plans_;
};

}  // namespace axf::kernels
