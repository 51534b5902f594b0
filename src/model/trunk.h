// The network trunk (AlphaFold EmbeddingsAndEvoformer; Suppl. Alg. 2 lines 5-18): input and recycling
// embeddings, template embedding (Alg. 16-17 + torsion rows), extra-MSA stack (Alg. 18-19), the Evoformer
// stack (Alg. 6) and the single representation. Outputs feed the structure module, the heads and recycling.
#pragma once

#include <optional>

#include "model/config.h"
#include "model/embedders.h"
#include "model/template_embedding.h"
#include "model/model_inputs.h"
#include "model/params.h"
#include "runtime/execution_context.h"
#include "runtime/recorded_regions.h"

namespace axf::model {

struct TrunkOutputs {
  Tensor single;         // [L, c_s]  single_activations(msa[0])
  Tensor pair;           // [L, L, c_z]
  Tensor msa;            // [S, L, c_m] MSA rows without the template rows (for the masked-MSA head)
  Tensor msa_first_row;  // [L, c_m]
};

// What the trunk computes from the model inputs alone, kept by its caller across the recycling passes of ONE
// prediction: the uploaded inputs, and the template stack outputs ([T', L, L, c_t] in ctx.dtype(), exact to
// reuse; they stay allocated through the Evoformer stacks) unless cache_templates is off (memory-lean runs: the
// templates are then streamed through the pointwise attention one at a time, every pass; the same up to rounding).
struct TrunkCache {
  bool cache_templates = true;
  // The pass's pair representation is built in prev.prev_pair's buffer (the previous pass's pair, consumed: its
  // rows are normalised before they are overwritten), so recycling keeps one [L, L, c_z] buffer, not two; with
  // recorded stacks the MSA and extra-MSA buffers are kept from pass to pass too (msa_buffer, extra_buffer). Only
  // for callers that read neither prev.prev_pair nor the previous pass's outputs after the pass (run_alphafold).
  bool reuse_pass_buffers = true;
  int passes = 1;  // recycling passes of the prediction (run_alphafold): whether recording the stacks can pay off
  std::optional<DeviceInputs> inputs;
  TemplateStackCache templates;
  // The extra-MSA and Evoformer stacks as CUDA graphs, when ctx.record_stacks(L, passes) and reuse_pass_buffers
  // (recorded in the second pass), and the buffers they update, the same in every pass: [S + T', L, c_m] and
  // [E, L, c_e].
  runtime::RecordedRegions stacks;
  Tensor msa_buffer, extra_buffer;
};

// One pass of the trunk on device tensors. `prev` comes from the previous recycling pass (zeros at first).
// cache: null, or the prediction's TrunkCache (filled by the first pass, reused by the later ones).
TrunkOutputs run_trunk(runtime::ExecutionContext& ctx, const Params& params, const ModelConfig& cfg,
                       const ModelInputs& inputs, const RecyclingState& prev, TrunkCache* cache = nullptr);

}  // namespace axf::model
