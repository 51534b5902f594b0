#include "model/trunk.h"

#include "core/error.h"
#include "model/evoformer.h"
#include "model/template_embedding.h"
#include "runtime/log.h"

namespace axf::model {

TrunkOutputs run_trunk(runtime::ExecutionContext& ctx, const Params& params, const ModelConfig& cfg,
                       const ModelInputs& in, const RecyclingState& prev, TrunkCache* cache) {
  backend::Backend& be = ctx.backend();
  const Scope evo(params, std::string(kRootScope) + "/evoformer");
  const int64_t L = in.num_res(), S = in.num_msa(), E = in.num_extra();
  const bool torsion_rows = cfg.templates.enabled && cfg.templates.embed_torsion_angles;
  const int64_t T_rows = torsion_rows ? in.templates.count() : 0;
  AXF_CHECK(in.templates.count() <= cfg.templates.max_templates || !cfg.templates.enabled, "inputs have ",
            in.templates.count(), " templates, preset ", cfg.preset, " takes at most ", cfg.templates.max_templates);

  if (cache && !cache->inputs) cache->inputs = upload_inputs(ctx, cfg, in);
  const DeviceInputs d = cache ? *cache->inputs : upload_inputs(ctx, cfg, in);
  AXF_CHECK(d.target_feat.size(0) == L && d.msa_feat.size(0) == S && d.extra_msa.size(0) == E,
            "trunk: the cached device inputs are for other model inputs (one TrunkCache per prediction)");
  // The representations: allocated once, updated in place by every module (the MSA after the template and
  // extra-MSA stacks); the pair reuses the recycled pair's buffer when the caller allows it.
  const Shape pair_shape = {L, L, cfg.pair_channel};
  const bool reuse = cache && cache->reuse_pass_buffers && cfg.recycle_features && prev.prev_pair.defined() &&
                     prev.prev_pair.shape() == pair_shape && prev.prev_pair.dtype() == ctx.dtype() &&
                     prev.prev_pair.is_contiguous();
  Tensor pair = reuse ? prev.prev_pair : be.empty(pair_shape, ctx.dtype());
  runtime::RecordedRegions* recorded =
      cache && cache->reuse_pass_buffers && ctx.record_stacks(L, cache->passes) ? &cache->stacks : nullptr;
  // A recorded stack reads and writes the same buffers in every pass: the cache keeps them.
  auto stack_buffer = [&](Tensor TrunkCache::*member, const Shape& shape) {
    if (!recorded) return be.empty(shape, ctx.dtype());
    Tensor& kept = cache->*member;
    if (!kept.defined() || kept.shape() != shape || kept.dtype() != ctx.dtype()) kept = be.empty(shape, ctx.dtype());
    return kept;
  };
  {
    runtime::StageTimer timer(ctx, "embeddings");
    embed_pair(ctx, evo, cfg, d, in.aatype, prev, pair);
  }
  if (cfg.templates.enabled && in.templates.count() > 0) {
    runtime::StageTimer timer(ctx, "template embedding");
    TemplateStackCache* stack_cache = cache && cache->cache_templates ? &cache->templates : nullptr;
    const bool reused = stack_cache && stack_cache->valid();
    template_embedding_add(ctx, evo.sub("template_embedding"), cfg.templates, in.templates, d.pair_mask, pair,
                           stack_cache);
    runtime::log_info("template embedding: ", in.templates.count(), " templates",
                      reused ? " (template stack reused from the first pass)" : "", " in ", timer.seconds(), " s");
  }
  if (E > 0) {
    Tensor extra = stack_buffer(&TrunkCache::extra_buffer, {E, L, cfg.extra_msa_channel});
    {
      runtime::StageTimer timer(ctx, "embeddings");
      extra_msa_embedder(ctx, evo, d, extra);
    }
    evoformer_stack(ctx, evo.sub("extra_msa_stack"), cfg.evoformer, cfg.extra_msa_stack_num_block, true, extra,
                    d.extra_msa_mask, pair, d.pair_mask, "extra MSA stack", recorded);
  }
  // The MSA only now: the template and extra-MSA stacks never read it (embedders.h).
  Tensor msa = stack_buffer(&TrunkCache::msa_buffer, {S + T_rows, L, cfg.msa_channel});
  {
    runtime::StageTimer timer(ctx, "embeddings");
    embed_msa(ctx, evo, cfg, d, prev, msa);
    if (T_rows > 0) {
      Tensor rows = msa.slice(0, S, S + T_rows);
      template_torsion_embedder(ctx, evo, in.templates, rows);
    }
  }
  evoformer_stack(ctx, evo.sub("evoformer_iteration"), cfg.evoformer, cfg.evoformer_num_block, false, msa, d.msa_mask,
                  pair, d.pair_mask, "Evoformer stack", recorded);

  TrunkOutputs out;
  out.pair = pair;
  out.msa = msa.slice(0, 0, S);
  out.msa_first_row = msa.select(0, 0);
  out.single = be.empty({L, cfg.seq_channel});  // fp32: the structure module's input
  be.linear({out.msa_first_row, evo.sub("single_activations")["weights"], evo.sub("single_activations")["bias"],
             out.single});
  return out;
}

}  // namespace axf::model
