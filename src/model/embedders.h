// Input-side embeddings of the trunk (AlphaFold EmbeddingsAndEvoformer, Suppl. Alg. 2 lines 5-16):
//   InputEmbedder (Alg. 3) with relpos (Alg. 4) and one_hot (Alg. 5): msa [S, L, c_m], pair [L, L, c_z]
//   RecyclingEmbedder (Alg. 32): prev pseudo-beta distogram, LayerNorm'd previous MSA first row and pair
//   extra-MSA embedding (Alg. 2 line 14): [E, L, 25] features -> [E, L, c_e]
// The O(L^2) and O(E L) features (relpos, recycled distogram, extra-MSA one-hot) are computed on the device by
// Backend ops from per-residue inputs; activations are allocated in ctx.dtype(), masks in fp32.
//   template torsion-angle rows (Alg. 2 lines 7-8, Suppl. 1.7.1): [T, L, 57] features -> [T, L, c_m]
#pragma once

#include "model/config.h"
#include "model/model_inputs.h"
#include "model/params.h"
#include "runtime/execution_context.h"

namespace axf::model {

// Inputs uploaded once to the compute device (run_trunk keeps them across recycles when given a TrunkCache).
struct DeviceInputs {
  Tensor target_feat;  // [L, 22]
  Tensor msa_feat;     // [S, L, 49]
  Tensor msa_mask;     // [S + T', L] MSA mask followed by the template torsion rows' mask (T' = T or 0)
  Tensor pair_mask;    // [L, L] seq_mask outer product (formed on the device)
  Tensor residue_index;         // [L] int32
  Tensor extra_msa;             // [E, L] int32
  Tensor extra_has_deletion;    // [E, L]
  Tensor extra_deletion_value;  // [E, L]
  Tensor extra_msa_mask;        // [E, L]
};
DeviceInputs upload_inputs(runtime::ExecutionContext& ctx, const ModelConfig& cfg, const ModelInputs& in);

// AlphaFold's dgram_from_positions as one-hot bin indices (-1 where no bin is hot: d^2 on a bin edge or 0 below
// the first edge), for pseudo-beta positions [L, 3], output rows [row_begin, row_begin + rows) x L. The host
// reference of Backend::distogram_embedding.
std::vector<int32_t> dgram_bins(const float* positions, int64_t L, int64_t row_begin, int64_t rows,
                                const DgramConfig& dgram);
// Its squared bin edges: lower[k] = linspace(min_bin, max_bin, num_bins)[k]^2 (fp32), upper[k] = lower[k + 1],
// 1e8 for the last bin.
void dgram_squared_breaks(const DgramConfig& dgram, std::vector<float>& lower, std::vector<float>& upper);
// Relpos one-hot indices clamp(ri[i] - ri[j] + R, 0, 2R) for rows [row_begin, row_begin + rows) x L: the host
// reference of Backend::relative_position_embedding.
std::vector<int32_t> relpos_indices(const int32_t* residue_index, int64_t L, int64_t row_begin, int64_t rows,
                                    int32_t max_relative_feature);

// pair += relpos one-hot @ pair_activiations (Alg. 4-5), clipped at +-max_relative_feature. residue_index [L]
// int32 on the device (a host tensor is uploaded).
void relative_position_add(runtime::ExecutionContext& ctx, const Scope& evo, const ModelConfig& cfg,
                           const Tensor& residue_index, Tensor& pair);

struct RecyclingState {
  Tensor prev_pos;            // [L, 37, 3] host (final atom positions of the previous pass; zeros at first)
  Tensor prev_msa_first_row;  // [L, c_m] device, ctx.dtype()
  Tensor prev_pair;           // [L, L, c_z] device, ctx.dtype()
  static RecyclingState zeros(runtime::ExecutionContext& ctx, const ModelConfig& cfg, int64_t num_res);
};

// The embeddings of one pass (Suppl. Alg. 2 lines 1-5 with Alg. 32, in AlphaFold's order):
//   msa[0:S] = preprocess_msa(msa_feat) + preprocess_1d(target_feat);  msa[0] += LN(prev_msa_first_row)
//   pair = left_single_i + right_single_j  (+ prev_pos_linear(dgram(pseudo_beta(prev_pos))))  (+ LN(prev_pair))
//          + relpos
// (the recycling terms as cfg.recycle_pos / recycle_features ask; aatype [L] host, the pseudo-beta formed on the
// host, O(L)). `pair` may be prev.prev_pair itself, the previous pass's buffer reused: the pair is built a block of
// rows at a time, each block's previous rows normalised before they are overwritten, so recycling needs no second
// [L, L, c_z] buffer (blocks of at most kRecycledPairBlockRows rows then).
// embed_inputs does both; the trunk calls embed_pair first and embed_msa only after the template and extra-MSA
// stacks, which never read the MSA, so [S+T, L, c_m] is not alive beside them (the two are independent).
constexpr int64_t kRecycledPairBlockRows = 128;
void embed_inputs(runtime::ExecutionContext& ctx, const Scope& evo, const ModelConfig& cfg, const DeviceInputs& d,
                  const Tensor& aatype, const RecyclingState& prev, Tensor& msa, Tensor& pair);
void embed_pair(runtime::ExecutionContext& ctx, const Scope& evo, const ModelConfig& cfg, const DeviceInputs& d,
                const Tensor& aatype, const RecyclingState& prev, Tensor& pair);
void embed_msa(runtime::ExecutionContext& ctx, const Scope& evo, const ModelConfig& cfg, const DeviceInputs& d,
               const RecyclingState& prev, Tensor& msa);

// extra_act [E, L, c_e] = extra_msa_activations(concat(one_hot(extra_msa, 23), has_deletion, deletion_value)),
// from d.extra_msa / extra_has_deletion / extra_deletion_value without the one-hot tensor.
void extra_msa_embedder(runtime::ExecutionContext& ctx, const Scope& evo, const DeviceInputs& d, Tensor& extra_act);

// msa[S:S+T] = template_projection(relu(template_single_embedding(concat(one_hot(aatype, 22), sin_cos (14),
// alt_sin_cos (14), torsion mask (7))))).
void template_torsion_embedder(runtime::ExecutionContext& ctx, const Scope& evo, const TemplateBatch& t,
                               Tensor& template_rows);

}  // namespace axf::model
