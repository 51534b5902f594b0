// Full-model benchmark: run_alphafold (embeddings, templates, extra-MSA and Evoformer stacks, structure module,
// recycling) and the heads on synthetic inputs, once, through a CountingBackend so the run's FLOPs and bytes are
// counted from every operation it issues. Memory: device use before and after, and the stream-ordered pool's
// high-water marks over the run (CUDA), or the peak resident set (CPU).
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <filesystem>

#include "model/alphafold.h"
#include "model/heads.h"
#include "model/memory_plan.h"
#include "model/synthetic_inputs.h"
#include "parallel/communicator.h"
#include "runtime/bench.h"
#include "runtime/bench_data.h"
#include "runtime/log.h"

namespace axf::runtime::bench {

BenchParams::BenchParams(backend::Backend& be, const model::ModelConfig& cfg, uint64_t seed, core::DType trunk_dtype)
    : config(cfg) {
  static int counter = 0;
  const std::filesystem::path path = std::filesystem::temp_directory_path() /
                                     ("axialfold-bench-" + std::to_string(::getpid()) + "-" +
                                      std::to_string(counter++) + ".npz");
  struct Remove {
    std::filesystem::path p;
    ~Remove() {
      std::error_code ec;
      std::filesystem::remove(p, ec);
    }
  } remove{path};
  model::write_random_params(path, config, seed);
  params = model::load_params(path, config, be);
  if (trunk_dtype != core::DType::F32) model::convert_trunk_weights(params, be, trunk_dtype);
}

ModelRun bench_model(backend::Backend& be, const BenchOptions& opt, const BenchParams& bp, int64_t L) {
  const model::ModelConfig& cfg = bp.config;
  ModelRun run;
  run.msa = opt.msa;
  run.extra = opt.extra;
  run.templates = cfg.templates.enabled ? opt.templates : 0;
  run.blocks = cfg.evoformer_num_block;
  const model::ModelInputs inputs =
      model::synthetic_model_inputs({L, opt.msa, opt.extra, run.templates, opt.seed + static_cast<uint64_t>(L)});

  parallel::SelfCommunicator comm;
  CountingBackend counting(be);
  ExecutionContext ctx(counting, comm, opt.chunks);
  apply_precision(opt.precision, ctx);
  ctx.set_graphs(opt.graphs);
  reset_memory_peaks(be);
  run.memory_before = memory_stats(be);

  const auto start = std::chrono::steady_clock::now();
  model::RecyclingOptions recycling;
  recycling.num_recycle = opt.recycles;
  recycling.cache_template_stack = opt.template_cache;
  const model::AlphaFoldResult result = model::run_alphafold(ctx, bp.params, cfg, inputs, recycling);
  // As predict does by default: PAE and pTM terms computed on the device, the distogram logits computed (and
  // planned) only when predict would write them.
  const bool distogram_logits = model::pair_arrays_by_default(L, cfg);
  model::HeadOutputs heads;
  {
    ScopedTimer timer(ctx.timers(), "heads");
    model::HeadsOptions head_options;
    head_options.pae_logits = false;
    head_options.distogram_logits = distogram_logits;
    heads = model::run_heads(ctx, bp.params, cfg, result.trunk.single, result.trunk.pair, result.trunk.msa,
                             result.structure.single, head_options);
    be.synchronize();
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  run.memory_after = memory_stats(be);

  // The parameters were loaded through the raw backend before the run: add them to the tracked peak.
  double parameter_bytes = 0;
  for (const auto& [key, t] : bp.params.arrays())
    parameter_bytes += static_cast<double>(t.numel()) * static_cast<double>(core::dtype_size(t.dtype()));
  run.model_buffers_peak = static_cast<double>(counting.live_bytes().peak) + parameter_bytes;
  {
    model::MemoryPlanOptions mo;
    mo.dtype = ctx.dtype();
    mo.chunks = opt.chunks;
    mo.template_cache = opt.template_cache;
    mo.distogram_logits = distogram_logits;
    mo.recorded_stacks = ctx.record_stacks(L, opt.recycles + 1);
    if (be.device() == core::Device::CUDA) {
      mo.cuda_workspace = backend::kDefaultWorkspaceBytes;
    }
    run.planned_peak =
        static_cast<double>(model::plan_memory(cfg, {L, opt.msa, opt.extra, run.templates}, mo).peak_bytes());
  }
  run.passes = result.passes;
  run.stages = ctx.timers().stages();
  run.tallies = counting.tallies();
  Row& row = run.row;
  row.name = "model";
  row.shape = "L=" + std::to_string(L) + " S=" + std::to_string(run.msa) + " E=" + std::to_string(run.extra) +
              " T=" + std::to_string(run.templates) + " blocks=" + std::to_string(run.blocks) +
              " passes=" + std::to_string(run.passes) + (opt.template_cache ? "" : " templates streamed") +
              (result.graph_replays > 0 ? " graphs=" + std::to_string(result.graph_replays) : "");
  row.length = L;
  row.time = summarize({seconds});
  row.flops = run.tallies.flops();
  row.bytes = run.tallies.bytes();
  // Cheap check: every output the run produced is finite.
  Checker chk(0);
  for (const Tensor* t : std::initializer_list<const Tensor*>{&result.structure.final_atom_positions,
                                                              &heads.plddt_logits, &heads.distogram_logits,
                                                              &heads.pae, &heads.tm_terms})
    if (t->defined()) chk.add_nonfinite_scan(*t);
  if (opt.compare_unchunked) {
    const Tensor& atoms = result.structure.final_atom_positions;
    const Tensor host = atoms.device() == core::Device::CPU ? atoms.contiguous() : be.download(atoms);
    const float* p = host.data<float>();
    run.atom_positions.assign(p, p + host.numel());
  }
  row.wrong = chk.wrong();
  row.checked = chk.checked();
  row.note = "#wrong: non-finite outputs";
  return run;
}

}  // namespace axf::runtime::bench
