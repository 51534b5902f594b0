// Outer product mean (Suppl. Alg. 10 "OuterProductMean"; AlphaFold modules.OuterProductMean), scope
// ".../outer_product_mean". Adds the MSA -> pair update into the pair representation in place:
//   m = LayerNorm(layer_norm_input)(msa)                                   [S, L, c_m]
//   a = mask * left_projection(m),  b = mask * right_projection(m)         [S, L, c]   (c = num_outer_channel)
//   norm[i,j] = sum_s mask[s,i] * mask[s,j]                                [L, L]
//   pair[i,j,:] += (sum_{x,y} (sum_s a[s,i,x] b[s,j,y]) output_w[x,y,:] + output_b) / (1e-3 + norm[i,j])
// AlphaFold's order: output_b is added before the division by (1e-3 + norm). Shapes: msa [S, L, c_m],
// msa_mask [S, L] (1 = real, 0 = padding), pair [L, L, c_z]; output_w [c, c, c_z] is used as [c*c, c_z].
// The projections are computed ctx.chunks().msa_rows sequences at a time; the update is produced
// ctx.chunks().opm_rows output rows i at a time (each row is independent, so chunking is exact).
#pragma once

#include "model/params.h"
#include "runtime/execution_context.h"

namespace axf::model {

void outer_product_mean(runtime::ExecutionContext& ctx, const Scope& scope, const Tensor& msa, const Tensor& msa_mask,
                        Tensor& pair);

}  // namespace axf::model
