// MSA attention modules of the Evoformer and the extra-MSA stack (AlphaFold modules.MSARowAttentionWithPairBias,
// MSAColumnAttention, MSAColumnGlobalAttention). Each adds its update into the MSA representation in place:
//
//   Suppl. Alg. 7 "MSARowAttentionWithPairBias"   (scope ".../msa_row_attention_with_pair_bias")
//     m = LayerNorm(query_norm)(msa)                                       [S, L, c_m]
//     b[h,q,k] = LayerNorm(feat_2d_norm)(pair)[q,k,:] @ feat_2d_weights    [H, L, L]
//     msa[s] += Attention(m[s], m[s], key mask msa_mask[s], bias b)        attention along residues of each row
//
//   Suppl. Alg. 8 "MSAColumnAttention"            (scope ".../msa_column_attention")
//     m^T = LayerNorm(query_norm)(msa^T)                                   [L, S, c_m]
//     msa^T[l] += Attention(m^T[l], m^T[l], key mask msa_mask^T[l])        attention along sequences of each column
//
//   Suppl. Alg. 19 "MSAColumnGlobalAttention"     (scope ".../msa_column_global_attention", extra-MSA stack)
//     as Alg. 8 but with GlobalAttention (one mask-averaged query per column, single shared key/value head).
//
// Masks follow AlphaFold: masked keys get the logit -1e9 (jnp.where(mask, logits, -1e9)); queries are never
// masked (their rows are computed and updated like any other). Shapes: msa [S, L, c_m], msa_mask [S, L]
// (1 = real, 0 = padding), pair [L, L, c_z]. `cfg` must already be resolved (key_dim/value_dim totals set,
// ModelConfig::resolved). Row attention processes ctx.chunks().msa_rows sequences at a time (the pair bias is
// built ctx.chunks().pair_rows query rows at a time); column attention ctx.chunks().msa_columns residues at a
// time. Every chunk's update depends only on its own rows/columns of the input, so chunking is exact.
#pragma once

#include "model/config.h"
#include "model/params.h"
#include "runtime/execution_context.h"

namespace axf::model {

// Suppl. Alg. 7. msa [S, L, c_m] updated in place; msa_mask [S, L]; pair [L, L, c_z] (read only).
void msa_row_attention_with_pair_bias(runtime::ExecutionContext& ctx, const Scope& scope, const AttentionConfig& cfg,
                                      Tensor& msa, const Tensor& msa_mask, const Tensor& pair);

// Suppl. Alg. 8. msa [S, L, c_m] updated in place; msa_mask [S, L].
void msa_column_attention(runtime::ExecutionContext& ctx, const Scope& scope, const AttentionConfig& cfg, Tensor& msa,
                          const Tensor& msa_mask);

// Suppl. Alg. 19. msa [S_extra, L, c_e] updated in place; msa_mask [S_extra, L].
void msa_column_global_attention(runtime::ExecutionContext& ctx, const Scope& scope, const AttentionConfig& cfg,
                                 Tensor& msa, const Tensor& msa_mask);

}  // namespace axf::model
