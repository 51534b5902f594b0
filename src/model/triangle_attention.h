// Triangle self-attention (Suppl. Alg. 13 "TriangleAttentionStartingNode", Alg. 14
// "TriangleAttentionEndingNode"; AlphaFold modules.TriangleAttention, orientation per_row / per_column):
//   Ending node works on x = z^T (swapaxes of the pair and of its mask), Starting node on x = z.
//   y          = LayerNorm_query_norm(x)                                    [L, L, c_z]
//   bias[h,q,k] = sum_c y[q,k,c] feat_2d_weights[c,h]                       [H, L, L]  (from every row)
//   x[i] += Attention(q_data = y[i], m_data = y[i], key mask = mask[i, :], bias)   for each row i
// The bias is computed first, chunk by chunk; the attention is then applied in place in row chunks of
// ctx.chunks().pair_rows. Row i's update depends only on row i and the precomputed bias, so chunked in-place
// updating equals the unchunked module.
#pragma once

#include "model/config.h"
#include "model/params.h"
#include "runtime/execution_context.h"

namespace axf::model {

enum class TriangleNode { Starting, Ending };

// scope: ".../triangle_attention_starting_node" or ".../triangle_attention_ending_node" (of one block).
// cfg: resolved against the pair channels (ModelConfig::resolved). pair [L, L, c_z] updated in place;
// pair_mask [L, L].
void triangle_attention(runtime::ExecutionContext& ctx, const Scope& scope, const AttentionConfig& cfg,
                        TriangleNode node, Tensor& pair, const Tensor& pair_mask);

}  // namespace axf::model
