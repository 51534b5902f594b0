// AlphaFold with recycling (Suppl. Alg. 2 "Inference", AlphaFold modules.AlphaFold): num_recycle + 1 passes of
// trunk and structure module; each pass feeds the previous one's final atom positions, MSA first row and pair
// representation back through the recycling embedder. Optional early stop as AlphaFold-Multimer does it: stop when
// the RMS change of the CA-CA distance matrix between passes falls below a tolerance (Angstrom).
#pragma once

#include <vector>

#include "model/structure_module.h"
#include "model/trunk.h"

namespace axf::model {

struct RecyclingOptions {
  int num_recycle = 3;                // AlphaFold's default: 3 recycles, 4 passes
  double early_stop_tolerance = 0.0;  // Angstrom; 0 disables early stopping
  // Compute the template stack once and reuse it on every recycle (exact). Off: recomputed every pass, which
  // saves keeping [T', L, L, c_t] through the Evoformer stacks (memory-lean runs).
  bool cache_template_stack = true;
};

struct AlphaFoldResult {
  TrunkOutputs trunk;          // of the last pass
  StructureOutputs structure;  // of the last pass
  int passes = 0;
  std::vector<double> ca_distance_change;  // per recycle (passes - 1 values), Angstrom
  bool stopped_early = false;
  int64_t graph_replays = 0;  // stacks replayed as CUDA graphs (TrunkCache::stacks)
};

AlphaFoldResult run_alphafold(runtime::ExecutionContext& ctx, const Params& params, const ModelConfig& cfg,
                              const ModelInputs& inputs, const RecyclingOptions& options);

// AlphaFold-Multimer's recycling tolerance metric: sqrt(masked mean over residue pairs of (d_prev - d_next)^2 + 1e-8)
// for CA-CA distances; positions [L, 37, 3], seq_mask [L].
double ca_distance_rms_change(const Tensor& prev_positions, const Tensor& next_positions, const Tensor& seq_mask);

}  // namespace axf::model
