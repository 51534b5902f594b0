#include "model/alphafold.h"

#include <chrono>
#include <cmath>

#include "core/error.h"
#include "model/residue_constants.h"
#include "runtime/log.h"

namespace axf::model {

double ca_distance_rms_change(const Tensor& prev, const Tensor& next, const Tensor& seq_mask) {
  const int64_t L = seq_mask.numel();
  AXF_CHECK(prev.shape() == core::Shape({L, 37, 3}) && next.shape() == prev.shape(), "CA distance change: positions ",
            prev.describe(), " and ", next.describe(), " for ", L, " residues");
  const int ca = atom37_index("CA");
  const Tensor a = prev.contiguous(), b = next.contiguous(), m = seq_mask.contiguous();
  const float* pa = a.data<float>();
  const float* pb = b.data<float>();
  const float* pm = m.data<float>();
  auto dist = [ca](const float* p, int64_t i, int64_t j) {
    double s = 0;
    for (int k = 0; k < 3; ++k) {
      const double d = double(p[(i * 37 + ca) * 3 + k]) - p[(j * 37 + ca) * 3 + k];
      s += d * d;
    }
    return std::sqrt(s);
  };
  double num = 0, den = 0;
  for (int64_t i = 0; i < L; ++i)
    for (int64_t j = 0; j < L; ++j) {
      const double w = double(pm[i]) * pm[j];
      if (w == 0) continue;
      const double d = dist(pa, i, j) - dist(pb, i, j);
      num += w * d * d;
      den += w;
    }
  return std::sqrt(num / (den + 1e-10) + 1e-8);
}

AlphaFoldResult run_alphafold(runtime::ExecutionContext& ctx, const Params& params, const ModelConfig& cfg,
                              const ModelInputs& inputs, const RecyclingOptions& options) {
  AXF_CHECK(options.num_recycle >= 0, "number of recycles must be >= 0, got ", options.num_recycle);
  backend::Backend& be = ctx.backend();
  AlphaFoldResult result;
  RecyclingState prev = RecyclingState::zeros(ctx, cfg, inputs.num_res());
  TrunkCache cache;  // inputs on the device and (optionally) the template stack, for every pass of this prediction
  cache.cache_templates = options.cache_template_stack;
  const int passes = options.num_recycle + 1;
  cache.passes = passes;
  for (int pass = 0; pass < passes; ++pass) {
    const auto start = std::chrono::steady_clock::now();
    cache.stacks.set_runs_ahead(passes - pass - 1);
    result.trunk = run_trunk(ctx, params, cfg, inputs, prev, &cache);
    {
      runtime::StageTimer timer(ctx, "structure module");
      result.structure = run_structure_module(ctx, params, cfg, result.trunk.single, result.trunk.pair, inputs.aatype,
                                              inputs.seq_mask);
    }
    result.passes = pass + 1;
    std::string change;
    if (pass > 0) {
      const double d = ca_distance_rms_change(prev.prev_pos, result.structure.final_atom_positions, inputs.seq_mask);
      result.ca_distance_change.push_back(d);
      change = ", CA distance change " + std::to_string(d) + " A";
      if (options.early_stop_tolerance > 0 && d < options.early_stop_tolerance) result.stopped_early = true;
    }
    be.synchronize();
    runtime::log_info("pass ", pass + 1, "/", passes, (pass == 0 ? " (initial)" : " (recycle " + std::to_string(pass) + ")"),
                      " done in ",
                      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), " s", change);
    if (result.stopped_early) {
      runtime::log_info("early stop: CA distance change below tolerance ", options.early_stop_tolerance, " A after ",
                        pass, " recycles");
      break;
    }
    if (pass + 1 < passes) {
      prev.prev_pos = result.structure.final_atom_positions;
      // The first MSA row is copied out so the previous pass's whole MSA ([S, L, c_m]) is freed before the next
      // pass allocates its own; the pair is kept (the recycling embedder reads it).
      prev.prev_msa_first_row = be.empty(result.trunk.msa_first_row.shape(), result.trunk.msa_first_row.dtype());
      be.copy(result.trunk.msa_first_row, prev.prev_msa_first_row);
      prev.prev_pair = result.trunk.pair;
      result.trunk = TrunkOutputs{};
    }
  }
  result.graph_replays = cache.stacks.replays();
  return result;
}

}  // namespace axf::model
