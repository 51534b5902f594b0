// The network trunk (AlphaFold EmbeddingsAndEvoformer; Suppl. Alg. 2 lines 5-18): input and recycling
// embeddings, template embedding (Alg. 16-17 + torsion rows), extra-MSA stack (Alg. 18-19), the Evoformer
// stack (Alg. 6) and the single representation. Outputs feed the structure module, the heads and recycling.
#pragma once

#include "model/config.h"
#include "model/embedders.h"
#include "model/model_inputs.h"
#include "model/params.h"
#include "runtime/execution_context.h"

namespace axf::model {

struct TrunkOutputs {
  Tensor single;         // [L, c_s]  single_activations(msa[0])
  Tensor pair;           // [L, L, c_z]
  Tensor msa;            // [S, L, c_m] MSA rows without the template rows (for the masked-MSA head)
  Tensor msa_first_row;  // [L, c_m]
};

// One pass of the trunk on device tensors. `prev` comes from the previous recycling pass (zeros at first).
TrunkOutputs run_trunk(runtime::ExecutionContext& ctx, const Params& params, const ModelConfig& cfg,
                       const ModelInputs& inputs, const RecyclingState& prev);

}  // namespace axf::model
