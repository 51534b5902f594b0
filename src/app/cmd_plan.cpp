// axialfold plan: the peak device memory of a prediction, broken down by buffer, before anything is allocated
// (model/memory_plan.h); with --gpu-memory (or a visible CUDA device) whether it fits.
#include <iostream>

#include "app/commands.h"
#include "app/memory_report.h"
#include "app/options.h"
#include "app/result_files.h"
#include "model/heads.h"
#include "runtime/precision.h"
#ifdef AXF_WITH_CUDA
#include "backend/cuda/cuda_backend.h"
#include "backend/cuda/cuda_check.h"
#endif

namespace axf::app {

int run_plan(int argc, char** argv) {
  po::options_description desc("axialfold plan options");
  add_common_options(desc);
  desc.add_options()("length", po::value<int64_t>(), "residues L (required)")(
      "msa", po::value<int64_t>()->default_value(512), "MSA clusters")(
      "extra", po::value<int64_t>()->default_value(1024), "extra MSA sequences")(
      "templates", po::value<int64_t>()->default_value(4), "templates")(
      "preset", po::value<std::string>()->default_value("model_1_ptm"), "model preset")(
      "precision", po::value<std::string>()->default_value("fp32"), "fp32, tf32 or bf16 (as predict)")(
      "device", po::value<std::string>()->default_value("cuda"),
      "cuda (adds the CUDA backend's scratch) or cpu (model buffers only)")(
      "no-template-cache", po::bool_switch(), "as predict: stream the templates, recomputed every recycle")(
      "chunking", po::value<std::string>()->default_value("explicit"),
      "explicit (the --chunk-* options) or auto (the least chunking that fits the available memory, as predict)")(
      "gpu-memory", po::value<double>(), "GiB available on the GPU (default: the free memory of CUDA device 0)")(
      "pair-arrays", po::value<std::string>()->default_value("auto"),
      "as predict: yes, no or auto; with no the heads skip the distogram logits");
  add_chunk_options(desc);
  add_graph_option(desc);
  const std::string usage =
      "usage: axialfold plan --length L [--precision bf16] [--msa 512 --extra 1024 --templates 4] [chunk options]";
  ParsedOptions opts = parse_options(argc, argv, desc, usage);
  if (opts.help) {
    std::cout << usage << "\n\n" << desc << "\n";
    return 0;
  }
  if (!opts.vm.count("length")) {
    std::cerr << "axialfold plan: --length is required\n" << usage << "\n";
    return 2;
  }
  const po::variables_map& vm = opts.vm;
  const model::ModelConfig cfg = model_config_from(opts, vm["preset"].as<std::string>());
  const model::RunShape shape{vm["length"].as<int64_t>(), vm["msa"].as<int64_t>(), vm["extra"].as<int64_t>(),
                              vm["templates"].as<int64_t>()};
  AXF_CHECK(shape.num_res >= 1 && shape.num_msa >= 1 && shape.num_extra >= 0 && shape.num_templates >= 0,
            "plan: --length and --msa must be >= 1, --extra and --templates >= 0");
  const std::string device = vm["device"].as<std::string>();
  AXF_CHECK(device == "cpu" || device == "cuda", "--device ", device, ": expected cpu or cuda");
  const runtime::Precision precision = runtime::parse_precision(vm["precision"].as<std::string>());
  model::MemoryPlanOptions o;
  o.dtype = precision == runtime::Precision::Bf16 ? core::DType::BF16 : core::DType::F32;
  o.chunks = chunk_config(vm);
  o.template_cache = !vm["no-template-cache"].as<bool>();
  o.distogram_logits = parse_pair_arrays(vm["pair-arrays"].as<std::string>())
                           .value_or(model::pair_arrays_by_default(shape.num_res, cfg));
  const int64_t budget = device == "cuda" ? backend::kDefaultWorkspaceBytes : 0;
  // (The preset's recycles: plan has no --recycles, so auto never records here.)
  o.recorded_stacks =
      runtime::records_stacks(graph_mode(vm), device == "cuda", shape.num_res, cfg.data.num_recycle + 1);
  double available = 0;
  if (vm.count("gpu-memory")) {
    available = vm["gpu-memory"].as<double>() * 1024.0 * 1024.0 * 1024.0;
  } else {
#ifdef AXF_WITH_CUDA
    if (device == "cuda" && backend::cuda_device_count() > 0) {
      size_t free_bytes = 0, total_bytes = 0;
      AXF_CUDA_CHECK(cudaSetDevice(0));
      AXF_CUDA_CHECK(cudaMemGetInfo(&free_bytes, &total_bytes));
      available = static_cast<double>(free_bytes);
    }
#endif
  }
  const std::string chunking = vm["chunking"].as<std::string>();
  AXF_CHECK(chunking == "explicit" || chunking == "auto", "--chunking ", chunking, ": expected explicit or auto");
  std::cout << "# axialfold plan: " << cfg.preset << ", L=" << shape.num_res << ", " << shape.num_msa
            << " MSA clusters, " << shape.num_extra << " extra sequences, " << shape.num_templates << " templates, "
            << runtime::precision_name(precision) << ", device " << device << "\n";
  if (chunking == "auto") {
    AXF_CHECK(available > 0, "--chunking auto needs --gpu-memory or a visible CUDA device");
    const auto chunks =
        model::chunks_that_fit(cfg, shape, o, budget, static_cast<int64_t>(available * model::kChunkingHeadroom));
    if (!chunks) {
      std::cout << "# chunking auto: no chunk sizes fit " << format_gib(available) << "\n";
      return 3;
    }
    o.chunks = chunks->chunks;
    o.template_cache = chunks->template_cache;
    std::cout << "# chunking auto: " << model::describe(*chunks) << "\n";
  }
  o.cuda_workspace = budget;
  const model::MemoryPlan plan = model::plan_memory(cfg, shape, o);
  print_memory_plan(std::cout, plan);
  if (available > 0) {
    const bool fits = static_cast<double>(plan.peak_bytes()) <= available;
    std::cout << "# " << (fits ? "fits" : "does NOT fit") << " in " << format_gib(available) << "\n";
    return fits ? 0 : 3;
  }
  return 0;
}

}  // namespace axf::app
