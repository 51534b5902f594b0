// AlphaFold's multi-head attention module ("attention" scope; modules.Attention), shared by MSA row/column
// attention (Suppl. Alg. 7-8), triangle attention (Alg. 13-14) and template pointwise attention (Alg. 17):
//   q = (q_data @ query_w) / sqrt(c), k = m_data @ key_w, v = m_data @ value_w      [B, Q|K, H, c]
//   a = softmax(q k^T + bias, masked keys -1e9) v, gated by sigmoid(q_data @ gating_w + gating_b)
//   update = a @ output_w + output_b                                                  [B, Q, C_out]
#pragma once

#include "model/config.h"
#include "model/params.h"
#include "runtime/execution_context.h"

namespace axf::model {

struct AttentionInputs {
  Tensor q_data;    // [B, Q, Cq]
  Tensor m_data;    // [B, K, Cm]
  Tensor key_mask;  // [B, K] or [1, K]; undefined = no mask
  Tensor bias;      // [H, Q, K] shared over B; undefined = none
};

// Computes the attention update and adds it into `residual` [B, Q, C_out] (any strides, dense last dim). When
// q_data and m_data are the same view (self-attention) q, k, v and the gate come from one GEMM with the module's
// weights fused once ([C, 4 H d], kept with the parameters; memory_plan counts them).
void gated_attention_add(runtime::ExecutionContext& ctx, const Scope& scope, const AttentionConfig& cfg,
                         const AttentionInputs& in, Tensor& residual);

// AlphaFold's GlobalAttention (Suppl. Alg. 19 lines 2-7): one averaged query per batch row, a single shared
// key/value head. x [B, K, C] (already layer-normed), mask [B, K]; adds the update into residual [B, K, C].
void global_attention_add(runtime::ExecutionContext& ctx, const Scope& scope, const AttentionConfig& cfg,
                          const Tensor& x, const Tensor& mask, Tensor& residual);

}  // namespace axf::model
