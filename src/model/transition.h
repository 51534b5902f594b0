// MSA / pair transition (Suppl. Alg. 9 "MSATransition", Alg. 15 "PairTransition"; AlphaFold modules.Transition):
//   act += transition2(relu(transition1(LayerNorm(act))))      act [..., c], hidden [..., factor * c]
// No mask is applied (as in AlphaFold). Rows of the leading dim are processed `chunk` at a time, in place.
#pragma once

#include "model/params.h"
#include "runtime/execution_context.h"

namespace axf::model {

// scope: ".../msa_transition" or ".../pair_transition". act: [N, ..., c], updated in place; chunks over dim 0.
void transition(runtime::ExecutionContext& ctx, const Scope& scope, Tensor& act, int64_t chunk);

}  // namespace axf::model
