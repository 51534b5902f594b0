// Template pair embedding (Suppl. Alg. 2 lines 9-13; AlphaFold modules.TemplateEmbedding,
// SingleTemplateEmbedding, TemplatePairStack) and template pointwise attention (Suppl. Alg. 17).
//
// Per template t (SingleTemplateEmbedding), with L residues:
//   features [L, L, 88] in AlphaFold's concatenation order
//     [ 0, 39) dgram_from_positions(template_pseudo_beta, cfg.dgram_features)  (39 bins)
//     [39]     pseudo_beta_mask[i] * pseudo_beta_mask[j]
//     [40, 62) one_hot(aatype[j], 22)     (jnp.tile(aatype[None, :, :], [L, 1, 1]))
//     [62, 84) one_hot(aatype[i], 22)     (jnp.tile(aatype[:, None, :], [1, L, 1]))
//     [84, 87) unit vector CA_i -> CA_j in residue i's backbone frame (N, CA, C; quat_affine
//              make_transform_from_reference), times rsqrt(1e-6 + |v|^2) * backbone_mask_2d;
//              zeros unless cfg.use_template_unit_vector
//     [87]     backbone_mask[i] * backbone_mask[j]   (backbone_mask = mask(N) * mask(CA) * mask(C))
//   and the whole vector multiplied by backbone_mask[i] * backbone_mask[j];
//   act_t = output_layer_norm(TemplatePairStack(embedding2d(features), pair_mask))        [L, L, c_t]
// Pointwise attention (Alg. 17): for every (i, j), query pair[i, j] (no LayerNorm), keys/values act_t[i, j] over
// the templates, key mask = template mask; the update is added into pair. Nothing is added when the template
// mask sums to 0. Templates whose mask is 0 receive exactly zero attention weight, so they are not embedded.
// The features are computed on the device (Backend::template_pair_features, fused with embedding2d) from
// per-residue inputs; act_t does not depend on recycling, so a TemplateStackCache keeps it across recycles.
// Without a cache the pointwise attention is streamed over the templates: each act_t is folded into an online
// softmax over templates (Backend::attention_accumulate) as soon as it is computed, so one [L, L, c_t] template
// representation is alive instead of T; the result equals the batched one up to rounding.
#pragma once

#include <vector>

#include "model/config.h"
#include "model/model_inputs.h"
#include "model/params.h"
#include "runtime/execution_context.h"

namespace axf::model {

inline constexpr int kTemplatePairFeatures = 88;  // 39 + 1 + 22 + 22 + 3 + 1 with AlphaFold's dgram config

// Suppl. Alg. 16: cfg.num_block blocks of { triangle attention starting node, ending node, triangle
// multiplication outgoing, incoming, pair transition }, parameters from the leading block axis of
// stack_scope (".../single_template_embedding/template_pair_stack/__layer_stack_no_state").
// act [L, L, c_t] updated in place; pair_mask [L, L].
void template_pair_stack(runtime::ExecutionContext& ctx, const Scope& stack_scope, const TemplatePairStackConfig& cfg,
                         Tensor& act, const Tensor& pair_mask);

// The host feature rows [row_end - row_begin, L, num_bins + 49] of template t (layout above), computed in fp32
// with AlphaFold's operation order. batch holds host tensors; pseudo_beta/pseudo_beta_mask are computed from the
// atoms (pseudo_beta_fn) when not supplied.
Tensor template_pair_features(const TemplateConfig& cfg, const TemplateBatch& batch, int64_t t, int64_t row_begin,
                              int64_t row_end);

// Per-residue inputs of template t for Backend::template_pair_features, host tensors: pseudo_beta [L, 3] and its
// mask [L] (from the atoms when the batch has none), CA [L, 3], canonical backbone rotation [L, 9], backbone mask
// [L], aatype [L] int32.
struct TemplateResidueInputs {
  Tensor pseudo_beta, pseudo_beta_mask, ca, rotation, backbone_mask, aatype;
};
TemplateResidueInputs template_residue_inputs(const TemplateBatch& batch, int64_t t);
// Squared dgram bin edges of the template features (linspace in double, squared in fp32; upper[last] = 1e8).
void template_dgram_breaks(const DgramConfig& dgram, std::vector<float>& lower, std::vector<float>& upper);

// SingleTemplateEmbedding outputs of the present templates, kept across the recycling passes of one prediction:
// they depend only on the template features and the pair mask, so reusing them is exact.
struct TemplateStackCache {
  Tensor reps;      // [T', L, L, c_t] in ctx.dtype(), on the device; undefined until the first pass
  Tensor key_mask;  // [1, T'] template mask of the present templates
  bool valid() const { return reps.defined(); }
};

// scope: ".../evoformer/template_embedding". batch: host tensors [T, L, ...]. pair_mask [L, L] (seq_mask outer
// product, on the device). pair [L, L, c_z] on the device: the template embedding is added in place.
// Features and pointwise attention are chunked over rows by ctx.chunks().template_rows. With a cache, the
// template stack runs only when the cache is empty and fills it ([T', L, L, c_t]); later calls reuse it. Without
// one (cache == nullptr), the templates are streamed: one representation, the online softmax state m, l
// [L, L, H] fp32 and acc [L, L, H*dv] in ctx.dtype() are alive, plus a row chunk's q, k, v.
void template_embedding_add(runtime::ExecutionContext& ctx, const Scope& scope, const TemplateConfig& cfg,
                            const TemplateBatch& batch, const Tensor& pair_mask, Tensor& pair,
                            TemplateStackCache* cache = nullptr);

}  // namespace axf::model
