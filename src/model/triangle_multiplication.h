// Triangle multiplicative update (Suppl. Alg. 11 "TriangleMultiplicationOutgoing", Alg. 12
// "TriangleMultiplicationIncoming"; AlphaFold modules.TriangleMultiplication._triangle_multiplication):
//   x      = LayerNorm_input(z)                                   z [L, L, c_z]
//   left   = mask * (x @ left_projection)  * sigmoid(x @ left_gate)      [L, L, c]
//   right  = mask * (x @ right_projection) * sigmoid(x @ right_gate)     [L, L, c]
//   t      = einsum(Outgoing 'ikc,jkc->ijc' | Incoming 'kjc,kic->ijc', left, right)
//   z     += (LayerNorm_center(t) @ output_projection) * sigmoid(x @ gating_linear)
// c = num_intermediate_channel (triangle_multiplication_channels). The projections of every row are computed
// first (stored channel-major [c, L, L]); the output is then produced and added in place in row chunks of
// ctx.chunks().pair_rows. Row i of the update reads only the stored projections and row i of the input (for the
// output gate), so chunked in-place updating equals the unchunked module.
#pragma once

#include "backend/backend.h"
#include "model/params.h"
#include "runtime/execution_context.h"

namespace axf::model {

// scope: ".../triangle_multiplication_outgoing" or ".../triangle_multiplication_incoming" (of one block).
// pair [L, L, c_z] (last dim dense; any leading strides), updated in place; pair_mask [L, L].
void triangle_multiplication(runtime::ExecutionContext& ctx, const Scope& scope, backend::TriangleDirection dir,
                             Tensor& pair, const Tensor& pair_mask);

}  // namespace axf::model
