#include "kernels/attention.cuh"

#include <algorithm>

#include "backend/cuda/cuda_check.h"
#include "kernels/elementwise.cuh"
#include "kernels/gemm.cuh"
#include "kernels/softmax.cuh"

namespace axf::kernels {

namespace {
// cuBLAS batch counts and the softmax's row count stay well inside every launch limit.
constexpr int64_t kMaxBatchChunk = 65535;

// Leading dimension for a GEMM operand: any value is valid for a single row.
int64_t ld_or(int64_t rows, int64_t stride, int64_t cols) { return rows <= 1 ? std::max<int64_t>(cols, 1) : stride; }
}  // namespace

AttentionPlan plan_attention(const AttentionParams& p, size_t budget_bytes) {
  AttentionPlan plan;
  const int64_t row_bytes = std::max<int64_t>(1, p.H * p.K * static_cast<int64_t>(sizeof(float)));
  const int64_t budget_rows = std::max<int64_t>(1, static_cast<int64_t>(budget_bytes) / row_bytes);
  if (p.Q <= budget_rows) {
    plan.query_chunk = std::max<int64_t>(p.Q, 1);
    plan.batch_chunk = std::clamp<int64_t>(budget_rows / plan.query_chunk, 1, std::max<int64_t>(p.B, 1));
    plan.batch_chunk = std::min(plan.batch_chunk, kMaxBatchChunk);
  } else {
    plan.query_chunk = budget_rows;
    plan.batch_chunk = 1;
  }
  plan.workspace_bytes = static_cast<size_t>(plan.batch_chunk * plan.query_chunk * row_bytes);
  return plan;
}

void launch_attention(const AttentionParams& p, const AttentionPlan& plan, float* workspace,
                      const GemmEngine& gemm_engine, cudaStream_t stream) {
  if (p.B == 0 || p.Q == 0 || p.H == 0) return;
  AXF_CHECK(p.K > 0, "attention with no keys");
  AXF_CHECK(p.Hk == p.H || p.Hk == 1, "attention: ", p.Hk, " key heads for ", p.H, " query heads");
  for (int64_t b0 = 0; b0 < p.B; b0 += plan.batch_chunk) {
    const int64_t nb = std::min(plan.batch_chunk, p.B - b0);
    for (int64_t q0 = 0; q0 < p.Q; q0 += plan.query_chunk) {
      const int64_t qc = std::min(plan.query_chunk, p.Q - q0);
      const int64_t block = qc * p.K;  // one (b, h) slice of the logits
      // logits[b, h] = scale * q[b, q0:q0+qc, h, :] @ k[b, :, h', :]^T
      for (int64_t h = 0; h < p.H; ++h) {
        const int64_t hk = p.Hk == 1 ? 0 : h;
        GemmParams g;
        g.trans_a = false;
        g.trans_b = true;
        g.m = qc;
        g.n = p.K;
        g.k = p.D;
        g.alpha = p.scale;
        g.beta = 0.f;
        g.a = p.q + b0 * p.q_s0 + q0 * p.q_s1 + h * p.q_s2;
        g.lda = ld_or(qc, p.q_s1, p.D);
        g.stride_a = p.q_s0;
        g.b = p.k + b0 * p.k_s0 + hk * p.k_s2;
        g.ldb = ld_or(p.K, p.k_s1, p.D);
        g.stride_b = p.k_s0;
        g.c = workspace + h * block;
        g.ldc = p.K;
        g.stride_c = p.H * block;
        g.batch = nb;
        gemm(gemm_engine, g, "attention logits");
      }
      SoftmaxParams s;
      s.logits = workspace;
      s.nb = nb;
      s.H = p.H;
      s.Qc = qc;
      s.K = p.K;
      if (p.bias) {
        s.bias = p.bias + q0 * p.bias_s1;
        s.bias_s0 = p.bias_s0;
        s.bias_s1 = p.bias_s1;
        s.bias_s2 = p.bias_s2;
      }
      if (p.mask) {
        s.mask = p.mask + b0 * p.mask_s0;
        s.mask_sb = p.mask_s0;
        s.mask_sk = p.mask_s1;
      }
      launch_softmax(s, stream);
      // out[b, q0:q0+qc, h, :] = P[b, h] @ v[b, :, h', :]
      for (int64_t h = 0; h < p.H; ++h) {
        const int64_t hk = p.Hk == 1 ? 0 : h;
        GemmParams g;
        g.m = qc;
        g.n = p.Dv;
        g.k = p.K;
        g.a = workspace + h * block;
        g.lda = p.K;
        g.stride_a = p.H * block;
        g.b = p.v + b0 * p.v_s0 + hk * p.v_s2;
        g.ldb = ld_or(p.K, p.v_s1, p.Dv);
        g.stride_b = p.v_s0;
        g.c = p.out + b0 * p.out_s0 + q0 * p.out_s1 + h * p.out_s2;
        g.ldc = ld_or(qc, p.out_s1, p.Dv);
        g.stride_c = p.out_s0;
        g.batch = nb;
        gemm(gemm_engine, g, "attention output");
      }
    }
  }
  if (p.gate && p.Dv > 0) {
    // out *= sigmoid(gate), rows [B, Q, H] of Dv.
    ElementwiseParams e;
    e.op = ElementwiseOp::SigmoidMul;
    e.dst = p.out;
    e.src = p.gate;
    const int64_t shape[3] = {p.B, p.Q, p.H};
    const int64_t out_s[3] = {p.out_s0, p.out_s1, p.out_s2}, gate_s[3] = {p.gate_s0, p.gate_s1, p.gate_s2};
    e.dst_rows.nd = e.src_rows.nd = 3;
    e.dst_rows.rows = e.src_rows.rows = p.B * p.Q * p.H;
    e.dst_rows.cols = e.src_rows.cols = p.Dv;
    for (int i = 0; i < 3; ++i) {
      e.dst_rows.shape[i] = e.src_rows.shape[i] = shape[i];
      e.dst_rows.stride[i] = out_s[i];
      e.src_rows.stride[i] = gate_s[i];
    }
    launch_elementwise(e, stream);
  }
}

}  // namespace axf::kernels
