// axialfold predict: model inputs + DeepMind parameters -> structure (PDB, mmCIF), confidence (pLDDT, PAE, pTM
// as AlphaFold-Database JSON) and an HDF5 results file with provenance. Every file is written atomically.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <iostream>

#include "app/commands.h"
#include "app/result_files.h"
#include "pipeline/msa_stage.h"
#include "pipeline/raw_features.h"
#ifdef AXF_WITH_CUDA
#include "backend/cuda/cuda_backend.h"
#endif
#include "app/options.h"
#include "model/model_inputs.h"
#include "model/params.h"
#include "model/alphafold.h"
#include "model/heads.h"
#include "runtime/log.h"
#include "runtime/precision.h"
#include "runtime/bench_device.h"
#include "model/memory_plan.h"
#include "app/memory_report.h"

namespace axf::app {

namespace {
void check_output_dir(const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  AXF_CHECK(!ec && std::filesystem::is_directory(dir), "cannot create output directory '", dir.string(),
            "': ", ec ? ec.message() : "not a directory");
  const auto probe = dir / (".axf-write-test-" + std::to_string(::getpid()));
  {
    std::ofstream f(probe);
    AXF_CHECK(f.good(), "output directory '", dir.string(), "' is not writable");
  }
  std::filesystem::remove(probe, ec);
}
}  // namespace

// --fasta: the msa stage (unless --alignment-dir), then `features` with processing, exactly as the subcommands
// run them. Returns the model-inputs file, or nothing when a stage failed (the stage has reported why).
static std::optional<std::filesystem::path> features_from_fasta(const ParsedOptions& opts,
                                                                const std::filesystem::path& out_dir) {
  const std::filesystem::path fasta = opts.vm["fasta"].as<std::string>();
  const io::FastaRecord query = pipeline::read_query_fasta(fasta);
  std::filesystem::path alignment_dir;
  if (opts.vm.count("alignment-dir")) {
    alignment_dir = opts.vm["alignment-dir"].as<std::string>();
  } else {
    AXF_CHECK(opts.vm.count("databases"), "--fasta needs --databases (to run the searches) or --alignment-dir");
    pipeline::MsaStageOptions msa;
    msa.fasta = fasta;
    msa.databases = opts.vm["databases"].as<std::string>();
    msa.output_dir = out_dir / "msas";
    if (opts.vm.count("searches")) {
      std::stringstream list(opts.vm["searches"].as<std::string>());
      for (std::string item; std::getline(list, item, ',');)
        if (!item.empty()) msa.searches.push_back(item);
    }
    const pipeline::MsaStageReport report = pipeline::run_msa_stage(msa, parallel::world());
    if (report.exit_code() != 0) return std::nullopt;
    alignment_dir = msa.output_dir / query.name;
  }
  if (parallel::world().rank() != 0) return out_dir;  // features are built once, on rank 0
  const std::string name = opts.vm.count("name") ? opts.vm["name"].as<std::string>() : query.name;
  const std::filesystem::path raw = out_dir / (name + "_features.h5"), inputs = out_dir / (name + "_model_inputs.h5");
  std::vector<std::string> args = {"features", "--fasta", fasta.string(), "--alignment-dir", alignment_dir.string(),
                                   "--out", raw.string(), "--model-inputs", inputs.string(),
                                   "--preset", opts.vm["preset"].as<std::string>(),
                                   "--seed", std::to_string(opts.vm["seed"].as<uint64_t>())};
  for (const char* passed : {"mmcif-dir", "max-template-date"})
    if (opts.vm.count(passed)) {
      args.push_back(std::string("--") + passed);
      args.push_back(opts.vm[passed].as<std::string>());
    }
  for (const auto& [key, value] : opts.model_overrides) {
    args.push_back("--set");
    args.push_back(key + "=" + value);
  }
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  if (run_features(static_cast<int>(argv.size()), argv.data()) != 0) return std::nullopt;
  return inputs;
}

// "cpu", "cuda" or "cuda:N".
static std::unique_ptr<backend::Backend> make_backend(const std::string& device, int threads) {
  if (device == "cpu") return backend::make_cpu_backend(threads);
#ifdef AXF_WITH_CUDA
  const int index = device == "cuda" ? 0 : std::stoi(device.substr(5));
  AXF_CHECK(index >= 0 && index < backend::cuda_device_count(), "--device ", device, ": ",
            backend::cuda_device_count(), " CUDA devices visible");
  return backend::make_cuda_backend(index);
#else
  AXF_FAIL("--device ", device, ": this build has no CUDA backend (configure with -DAXF_CUDA=ON)");
#endif
}

int run_predict(int argc, char** argv) {
  po::options_description desc("axialfold predict options");
  add_common_options(desc);
  desc.add_options()("params", po::value<std::string>(), "DeepMind parameter file params_model_*.npz (required)")(
      "features", po::value<std::string>(), "processed model inputs, .npz or HDF5 (or give --fasta)")(
      "fasta", po::value<std::string>(),
      "start from a sequence: run the searches (msa), build and process features (features), then predict")(
      "alignment-dir", po::value<std::string>(), "with --fasta: existing search outputs; skips the msa stage")(
      "databases", po::value<std::string>(), "with --fasta: database config for the msa stage")(
      "searches", po::value<std::string>(),
      "with --fasta: comma-separated searches (uniref90,mgnify,bfd,templates; default: all configured)")(
      "mmcif-dir", po::value<std::string>(), "with --fasta: template mmCIF files")(
      "max-template-date", po::value<std::string>(), "with --fasta: latest template release date (YYYY-MM-DD)")(
      "seed", po::value<uint64_t>()->default_value(0), "with --fasta: seed of the MSA sampling and masking")(
      "output-dir", po::value<std::string>(), "directory for the result files (required)")(
      "preset", po::value<std::string>()->default_value("model_1_ptm"), "model preset (model_1..5, *_ptm)")(
      "device", po::value<std::string>()->default_value("cpu"), "compute device: cpu, cuda or cuda:N")(
      "precision", po::value<std::string>()->default_value("fp32"),
      "compute precision: fp32 (true fp32), tf32 (fp32 with TF32 GEMMs, CUDA) or bf16 (bf16 trunk activations and "
      "weights, fp32 accumulation, statistics and structure module but for its normalised pair; CUDA)")(
      "threads", po::value<int>()->default_value(0), "CPU threads (0 = all cores)")(
      "recycles", po::value<int>(), "recycling iterations (default: the preset's 3, i.e. 4 passes)")(
      "early-stop-tolerance", po::value<double>()->default_value(0.0),
      "stop recycling when the CA distance matrix changes by less than this RMS (Angstrom; 0 = never)")(
      "name", po::value<std::string>(), "base name of the result files (default: the features file's stem)")(
      "no-template-cache", po::bool_switch(),
      "recompute the template stack on every recycle, one template at a time (streamed through the pointwise "
      "attention), instead of keeping its [T, L, L, 64] output (less memory)")(
      "chunking", po::value<std::string>()->default_value("explicit"),
      "explicit (the --chunk-* options) or auto (the least chunking that fits the free GPU memory, from the memory "
      "planner)")(
      "no-memory-check", po::bool_switch(),
      "run even when the memory planner predicts the run does not fit the free GPU memory")(
      "pair-arrays", po::value<std::string>()->default_value("auto"),
      "write the [L, L, *] arrays (pair representation, distogram logits; fp32) to NAME_result.h5: yes, no, or "
      "auto (when they take at most 4 GiB: L up to about 3,300; at L = 10,000 they are 77 GB)");
  add_chunk_options(desc);
  add_graph_option(desc);
  const std::string usage =
      "usage: axialfold predict --params params_model_1_ptm.npz (--features inputs.npz | --fasta query.fasta\n"
      "         (--databases db.cfg | --alignment-dir DIR) [--mmcif-dir D]) --output-dir DIR [options]";
  ParsedOptions opts = parse_options(argc, argv, desc, usage);
  if (opts.help) {
    std::cout << usage << "\n\n" << desc << "\n";
    return 0;
  }
  for (const char* required : {"params", "output-dir"})
    if (!opts.vm.count(required)) {
      std::cerr << "axialfold predict: --" << required << " is required\n" << usage << "\n";
      return 2;
    }
  if (opts.vm.count("features") == opts.vm.count("fasta")) {
    std::cerr << "axialfold predict: give exactly one of --features and --fasta\n" << usage << "\n";
    return 2;
  }
  const std::string device = opts.vm["device"].as<std::string>();
  AXF_CHECK(device == "cpu" || device.rfind("cuda", 0) == 0, "--device ", device, ": expected cpu, cuda or cuda:N");
  const runtime::Precision precision = runtime::parse_precision(opts.vm["precision"].as<std::string>());
  const std::string pair_arrays_choice = opts.vm["pair-arrays"].as<std::string>();
  const std::optional<bool> pair_arrays_asked = parse_pair_arrays(pair_arrays_choice);

  const std::filesystem::path params_path = opts.vm["params"].as<std::string>();
  const std::filesystem::path out_dir = opts.vm["output-dir"].as<std::string>();
  check_output_dir(out_dir);
  model::ModelConfig cfg = model_config_from(opts, opts.vm["preset"].as<std::string>());
  if (!opts.model_overrides.count("evoformer_num_block")) {
    const int blocks = model::evoformer_blocks_in_file(params_path);
    if (blocks > 0 && blocks != cfg.evoformer_num_block) {
      runtime::log_info("parameter file has ", blocks, " Evoformer blocks (preset: ", cfg.evoformer_num_block,
                        "); using ", blocks);
      cfg.evoformer_num_block = blocks;
    }
  }

  model::check_params_file(params_path, cfg);  // before any search: a wrong file is reported at once
  std::filesystem::path features_path;
  if (opts.vm.count("features")) {
    features_path = opts.vm["features"].as<std::string>();
  } else {
    const auto made = features_from_fasta(opts, out_dir);
    if (!made) return parallel::world().rank() == 0 ? 1 : 0;
    features_path = *made;
    if (parallel::world().rank() != 0) return 0;  // the model runs on rank 0 (DAP groups come later)
  }

  auto backend = make_backend(device, opts.vm["threads"].as<int>());
  runtime::log_info("backend: ", backend->name());
  runtime::ExecutionContext ctx(*backend, parallel::world(), chunk_config(opts.vm));
  ctx.set_graphs(graph_mode(opts.vm));
  runtime::apply_precision(precision, ctx);
  runtime::log_info("precision: ", runtime::precision_name(precision));
  model::Params params;
  {
    runtime::StageTimer t(ctx, "load parameters");
    params = model::load_params(params_path, cfg, *backend);
    if (ctx.dtype() != core::DType::F32) model::convert_trunk_weights(params, *backend, ctx.dtype());
  }
  runtime::log_info("parameters: ", params_path.string(), " (sha256 ", params.checksum.substr(0, 16), "...)");
  model::ModelInputs inputs;
  {
    runtime::StageTimer t(ctx, "load features");
    inputs = model::load_model_inputs(features_path);
  }
  runtime::log_info("features: ", features_path.string(), ": ", inputs.num_res(), " residues, ", inputs.num_msa(),
                    " MSA clusters, ", inputs.num_extra(), " extra sequences, ", inputs.templates.count(),
                    " templates");

  // The memory planner against the free GPU memory: refuse a run that cannot fit (naming what to change), or
  // choose the chunk sizes (--chunking auto).
  const std::string chunking = opts.vm["chunking"].as<std::string>();
  AXF_CHECK(chunking == "explicit" || chunking == "auto", "--chunking ", chunking, ": expected explicit or auto");
  bool template_cache = !opts.vm["no-template-cache"].as<bool>();
  const int num_recycle = opts.vm.count("recycles") ? opts.vm["recycles"].as<int>() : cfg.data.num_recycle;
  const bool pair_arrays = pair_arrays_asked.value_or(model::pair_arrays_by_default(inputs.num_res(), cfg));
  if (backend->device() == core::Device::CUDA) {
    const model::RunShape shape{inputs.num_res(), inputs.num_msa(), inputs.num_extra(), inputs.templates.count()};
    model::MemoryPlanOptions mo;
    mo.dtype = ctx.dtype();
    mo.template_cache = template_cache;
    mo.distogram_logits = pair_arrays;
    mo.recorded_stacks = ctx.record_stacks(inputs.num_res(), num_recycle + 1);
    const int64_t budget = backend::kDefaultWorkspaceBytes;
    const runtime::bench::MemoryStats mem = runtime::bench::memory_stats(*backend);
    // The parameters are on the device already: the plan's peak counts them, the free memory does not.
    const int64_t free_bytes = static_cast<int64_t>(mem.device_total - mem.device_used);
    const int64_t available = free_bytes + model::plan_memory(cfg, shape, mo).parameter_bytes;
    const auto target = static_cast<int64_t>(static_cast<double>(available) * model::kChunkingHeadroom);
    if (chunking == "auto") {
      const auto chunks = model::chunks_that_fit(cfg, shape, mo, budget, target);
      AXF_CHECK(chunks.has_value() || opts.vm["no-memory-check"].as<bool>(), "--chunking auto: no chunk sizes fit ",
                format_gib(static_cast<double>(available)), " (run `axialfold plan --length ", shape.num_res,
                " --precision ", runtime::precision_name(precision),
                "`; use --precision bf16, fewer extra sequences or more GPUs)");
      if (chunks) {
        ctx.set_chunks(chunks->chunks);
        mo.template_cache = template_cache = chunks->template_cache;
        runtime::log_info("chunking auto: ", model::describe(*chunks));
      }
    }
    mo.chunks = ctx.chunks();
    mo.cuda_workspace = budget;
    const model::MemoryPlan plan = model::plan_memory(cfg, shape, mo);
    runtime::log_info("memory plan: peak ", format_gib(static_cast<double>(plan.peak_bytes())), " (",
                      plan.stages[plan.peak_stage].name, "), ", format_gib(static_cast<double>(available)),
                      " available");
    if (plan.peak_bytes() > available && !opts.vm["no-memory-check"].as<bool>()) {
      const auto fit = model::chunks_that_fit(cfg, shape, mo, budget, target);
      const std::string advice = fit ? "--chunking auto (it would choose " + model::describe(*fit) + ")"
                                     : std::string("--precision bf16, fewer extra sequences or more GPUs");
      AXF_FAIL("the memory planner predicts a peak of ", format_gib(static_cast<double>(plan.peak_bytes())), " (",
               plan.stages[plan.peak_stage].name, ") but ", format_gib(static_cast<double>(available)),
               " are available on ", backend->name(), ": use ", advice,
               "; `axialfold plan` shows the breakdown; --no-memory-check runs anyway");
    }
  }

  if (!pair_arrays)
    runtime::log_info("results: the pair representation and distogram logits (",
                      format_gib(static_cast<double>(model::pair_array_bytes(inputs.num_res(), cfg))),
                      ") are not written (--pair-arrays ", pair_arrays_choice,
                      "; yes writes them)");

  model::RecyclingOptions recycling;
  recycling.num_recycle = num_recycle;
  recycling.early_stop_tolerance = opts.vm["early-stop-tolerance"].as<double>();
  recycling.cache_template_stack = template_cache;
  const model::AlphaFoldResult result = model::run_alphafold(ctx, params, cfg, inputs, recycling);
  model::HeadOutputs heads;
  {
    runtime::StageTimer t(ctx, "heads");
    model::HeadsOptions head_options;
    head_options.distogram_logits = pair_arrays;
    head_options.pae_logits = false;  // PAE and pTM come from the device (write_results)
    head_options.residue_weights = inputs.seq_mask;
    heads = model::run_heads(ctx, params, cfg, result.trunk.single, result.trunk.pair, result.trunk.msa,
                             result.structure.single, head_options);
  }
  std::string name = opts.vm.count("name") ? opts.vm["name"].as<std::string>() : features_path.stem().string();
  const std::string made_suffix = "_model_inputs";  // --fasta wrote NAME_model_inputs.h5
  if (opts.vm.count("fasta") && name.size() > made_suffix.size() &&
      name.compare(name.size() - made_suffix.size(), made_suffix.size(), made_suffix) == 0)
    name.resize(name.size() - made_suffix.size());
  {
    runtime::StageTimer t(ctx, "write results");
    ResultFiles files{out_dir, name};
    write_results(files, cfg, params, features_path, inputs, result, heads, *backend,
                  runtime::precision_name(precision), ctx.timers(), pair_arrays);
  }
  runtime::log_info("wrote ", (out_dir / (name + ".pdb")).string(), " and the other result files");
  std::cout << ctx.timers().table();
  return 0;
}

}  // namespace axf::app
