// Input-side embeddings of the trunk (AlphaFold EmbeddingsAndEvoformer, Suppl. Alg. 2 lines 5-16):
//   InputEmbedder (Alg. 3) with relpos (Alg. 4) and one_hot (Alg. 5): msa [S, L, c_m], pair [L, L, c_z]
//   RecyclingEmbedder (Alg. 32): prev pseudo-beta distogram, LayerNorm'd previous MSA first row and pair
//   extra-MSA embedding (Alg. 2 line 14): [E, L, 25] features -> [E, L, c_e]
//   template torsion-angle rows (Alg. 2 lines 7-8, Suppl. 1.7.1): [T, L, 57] features -> [T, L, c_m]
#pragma once

#include "model/config.h"
#include "model/model_inputs.h"
#include "model/params.h"
#include "runtime/execution_context.h"

namespace axf::model {

// Inputs uploaded once to the compute device.
struct DeviceInputs {
  Tensor target_feat;  // [L, 22]
  Tensor msa_feat;     // [S, L, 49]
  Tensor msa_mask;     // [S + T', L] MSA mask followed by the template torsion rows' mask (T' = T or 0)
  Tensor pair_mask;    // [L, L] seq_mask outer product
  Tensor extra_msa_mask;  // [E, L]
};
DeviceInputs upload_inputs(runtime::ExecutionContext& ctx, const ModelConfig& cfg, const ModelInputs& in);

// AlphaFold's dgram_from_positions as one-hot bin indices (-1 where no bin is hot: d^2 on a bin edge or 0 below
// the first edge), for pseudo-beta positions [L, 3], output rows [row_begin, row_begin + rows) x L.
std::vector<int32_t> dgram_bins(const float* positions, int64_t L, int64_t row_begin, int64_t rows,
                                const DgramConfig& dgram);

// msa[0:S] = preprocess_msa(msa_feat) + preprocess_1d(target_feat); pair = left_single_i + right_single_j.
void input_embedder(runtime::ExecutionContext& ctx, const Scope& evo, const DeviceInputs& d, Tensor& msa, Tensor& pair);
// pair += relpos one-hot @ pair_activiations (Alg. 4-5), clipped at +-max_relative_feature.
void relative_position_add(runtime::ExecutionContext& ctx, const Scope& evo, const ModelConfig& cfg,
                           const Tensor& residue_index, Tensor& pair);

struct RecyclingState {
  Tensor prev_pos;            // [L, 37, 3] host (final atom positions of the previous pass; zeros at first)
  Tensor prev_msa_first_row;  // [L, c_m] device
  Tensor prev_pair;           // [L, L, c_z] device
  static RecyclingState zeros(runtime::ExecutionContext& ctx, const ModelConfig& cfg, int64_t num_res);
};
// Alg. 32 as AlphaFold applies it (recycle_pos then recycle_features); aatype [L] host.
void recycling_embedder(runtime::ExecutionContext& ctx, const Scope& evo, const ModelConfig& cfg, const Tensor& aatype,
                        const RecyclingState& prev, Tensor& msa, Tensor& pair);

// extra_act [E, L, c_e] = extra_msa_activations(concat(one_hot(extra_msa, 23), has_deletion, deletion_value)).
void extra_msa_embedder(runtime::ExecutionContext& ctx, const Scope& evo, const ModelInputs& in, Tensor& extra_act);

// msa[S:S+T] = template_projection(relu(template_single_embedding(concat(one_hot(aatype, 22), sin_cos (14),
// alt_sin_cos (14), torsion mask (7))))).
void template_torsion_embedder(runtime::ExecutionContext& ctx, const Scope& evo, const TemplateBatch& t,
                               Tensor& template_rows);

}  // namespace axf::model
