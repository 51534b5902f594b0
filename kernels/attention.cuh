// Gated multi-head attention, v0: per head, one strided-batched cuBLAS GEMM over the batch for the logits
// (scale * q k^T), the softmax kernel (bias, key mask, max-subtraction) in place, a second batched GEMM for P v
// written straight into the output, and a sigmoid gate epilogue. The batch (and, when one batch element is too
// large, the queries) is processed in chunks so the logits block stays within a fixed budget.
// Shapes as in backend::AttentionArgs: q [B,Q,H,D], k [B,K,Hk,D], v [B,K,Hk,Dv], Hk == H or 1, out [B,Q,H,Dv].
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>

#include "kernels/gemm.cuh"

namespace axf::kernels {

struct AttentionParams {
  int64_t B = 0, Q = 0, K = 0, H = 0, Hk = 0, D = 0, Dv = 0;
  // Strides in elements of dims 0..2; the last dim of q, k, v, gate and out is dense.
  const float* q = nullptr;
  int64_t q_s0 = 0, q_s1 = 0, q_s2 = 0;
  const float* k = nullptr;
  int64_t k_s0 = 0, k_s1 = 0, k_s2 = 0;
  const float* v = nullptr;
  int64_t v_s0 = 0, v_s1 = 0, v_s2 = 0;
  const float* mask = nullptr;  // [B or 1, K]; mask_s0 = 0 broadcasts one row over the batch; nullptr: none
  int64_t mask_s0 = 0, mask_s1 = 0;
  const float* bias = nullptr;  // [H, Q, K] or nullptr
  int64_t bias_s0 = 0, bias_s1 = 0, bias_s2 = 0;
  const float* gate = nullptr;  // [B, Q, H, Dv] gate logits or nullptr
  int64_t gate_s0 = 0, gate_s1 = 0, gate_s2 = 0;
  float* out = nullptr;
  int64_t out_s0 = 0, out_s1 = 0, out_s2 = 0;
  float scale = 1.f;
};

struct AttentionPlan {
  int64_t batch_chunk = 1, query_chunk = 1;
  size_t workspace_bytes = 0;  // the logits block
};

// Chunks whose logits block fits `budget_bytes` (at least one query row of one batch element).
AttentionPlan plan_attention(const AttentionParams& p, size_t budget_bytes);

// `workspace` holds at least plan.workspace_bytes; the GEMMs run on gemm_engine.stream, which is `stream`.
void launch_attention(const AttentionParams& p, const AttentionPlan& plan, float* workspace,
                      const GemmEngine& gemm_engine, cudaStream_t stream);

}  // namespace axf::kernels
