// Invariant point attention (Suppl. Alg. 22 "InvariantPointAttention"; AlphaFold folding.InvariantPointAttention).
//   act [L, c_s], pair [L, L, c_z] (already pair_layer_norm'ed), backbone frames T_i, mask [L]:
//   logits[h,i,j] = sw <q_hi, k_hj> - pw_h/2 sum_p |T_i q~_hip - T_j k~_hjp|^2 + sqrt(1/3) b_hij - 1e5 (1 - m_i m_j)
//   with sw = sqrt(1/(3 sqk)), pw_h = softplus(trainable_point_weights_h) sqrt(1/(3 * 9/2 pqk)),
//   b = attention_2d(pair);
//   the output projection reads [scalar (H*sv) | local point x, y, z (3 * H*pv) | point norms (H*pv) | pair (H*c_z)].
// The projections and the output projection are backend linears; logits, softmax and the scalar, point and
// pair-weighted sums are one backend operation (Backend::invariant_point_attention), so nothing leaves the device.
#pragma once

#include "model/config.h"
#include "model/params.h"
#include "runtime/execution_context.h"

namespace axf::model {

// The iteration-invariant part: the pair representation does not change over the structure module's iterations,
// so its attention_2d logits and the point weights are computed once. pair stays a reference to the caller's
// device tensor.
struct IpaPairTerms {
  Tensor pair;           // [L, L, c_z] on the backend's device, fp32 or bf16 (the run's compute dtype)
  Tensor bias_2d;        // [L, L, H] device: attention_2d(pair), before the sqrt(1/3) weight
  Tensor point_weights;  // [H] device: softplus(trainable_point_weights) * sqrt(1 / (3 * 9/2 * pqk))
};

// scope: ".../fold_iteration/invariant_point_attention".
IpaPairTerms ipa_pair_terms(runtime::ExecutionContext& ctx, const Scope& scope, const StructureModuleConfig& cfg,
                            const Tensor& pair);

// residual [L, c_s] (device) += IPA(act) with act [L, c_s], mask [L] (fp32, 1 = residue present) and the frames
// affines [L, 7] (QuatAffine.to_tensor rows: quaternion w, x, y, z, translation in the module's internal unit,
// Angstrom / position_scale), all on the backend's device. residual may alias act.
void invariant_point_attention_add(runtime::ExecutionContext& ctx, const Scope& scope, const StructureModuleConfig& cfg,
                                   const Tensor& act, const IpaPairTerms& pair_terms, const Tensor& mask,
                                   const Tensor& affines, Tensor& residual);

}  // namespace axf::model
