// axialfold bench: the benchmark of issue 5 (runtime/bench.h) from the command line: measured ceilings, per-op and
// per-module times at AlphaFold shapes, and the full model at given lengths, as tables and optionally JSON.
#include <iostream>
#include <sstream>

#include "app/commands.h"
#include "app/options.h"
#include "parallel/communicator.h"
#include "runtime/bench.h"
#include "runtime/precision.h"
#include "runtime/log.h"
#ifdef AXF_WITH_CUDA
#include "backend/cuda/cuda_backend.h"
#endif

namespace axf::app {

namespace {

// "256,512" -> {256, 512}; every entry a positive integer.
std::vector<int64_t> parse_lengths(const std::string& text) {
  std::vector<int64_t> out;
  std::stringstream list(text);
  for (std::string item; std::getline(list, item, ',');) {
    size_t used = 0;
    long long v = 0;
    try {
      v = std::stoll(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    AXF_CHECK(used == item.size() && !item.empty() && v > 0, "--lengths ", text,
              ": expected comma-separated positive integers, e.g. 256,512");
    out.push_back(v);
  }
  AXF_CHECK(!out.empty(), "--lengths is empty");
  return out;
}

std::unique_ptr<backend::Backend> make_bench_backend(const std::string& device, int threads) {
  if (device == "cpu") return backend::make_cpu_backend(threads);
#ifdef AXF_WITH_CUDA
  int index = 0;
  if (device != "cuda") {
    AXF_CHECK(device.rfind("cuda:", 0) == 0 && device.size() > 5 &&
                  device.find_first_not_of("0123456789", 5) == std::string::npos,
              "--device ", device, ": expected cpu, cuda or cuda:N");
    index = std::stoi(device.substr(5));
  }
  AXF_CHECK(index < backend::cuda_device_count(), "--device ", device, ": ", backend::cuda_device_count(),
            " CUDA devices visible");
  return backend::make_cuda_backend(index);
#else
  AXF_CHECK(device.rfind("cuda", 0) == 0, "--device ", device, ": expected cpu, cuda or cuda:N");
  AXF_FAIL("--device ", device, ": this build has no CUDA backend (configure with -DAXF_CUDA=ON)");
#endif
}

}  // namespace

int run_bench(int argc, char** argv) {
  po::options_description desc("axialfold bench options");
  add_common_options(desc);
  desc.add_options()("device", po::value<std::string>()->default_value("cpu"), "compute device: cpu, cuda or cuda:N")(
      "threads", po::value<int>()->default_value(0), "CPU threads (0 = all cores)")(
      "lengths", po::value<std::string>()->default_value("256,512,1024,2048"),
      "comma-separated sequence lengths L")("ops", po::bool_switch(), "per-op section")(
      "modules", po::bool_switch(), "per-module section (one Evoformer block)")(
      "model", po::bool_switch(), "full-model section (run_alphafold + heads)")(
      "preset", po::value<std::string>()->default_value("model_1_ptm"), "model preset (widths, stacks, heads)")(
      "evoformer-blocks", po::value<int>(), "Evoformer blocks of the model (default: the preset's 48)")(
      "recycles", po::value<int>(), "recycling iterations of the model (default: the preset's 3)")(
      "no-template-cache", po::bool_switch(),
      "as predict: the template stack one template at a time, recomputed every recycle (memory-lean)")(
      "msa", po::value<int64_t>()->default_value(512), "MSA clusters (model inputs; rows of the MSA ops/modules)")(
      "extra", po::value<int64_t>()->default_value(1024), "extra MSA sequences")(
      "templates", po::value<int64_t>()->default_value(4), "templates of the model inputs (0..max_templates)")(
      "warmup", po::value<int>()->default_value(2), "untimed runs before the timed ones (ops, modules)")(
      "repeat", po::value<int>()->default_value(10), "timed runs per op and module (the median is reported)")(
      "check-samples", po::value<int>()->default_value(256),
      "output rows per op compared with a double-precision reference")(
      "seed", po::value<uint64_t>()->default_value(0), "seed of the random inputs and parameters")(
      "precision", po::value<std::string>()->default_value("fp32"),
      "precision of the modules and model sections: fp32, tf32 or bf16 (as predict --precision)")(
      "time-budget", po::value<double>()->default_value(0.0),
      "seconds for the sections; items estimated not to fit are skipped (0 = no budget)")(
      "json", po::value<std::string>(), "write every number to this JSON file")(
      "compare-unchunked", po::bool_switch(),
      "model section: run each length again unchunked; print both times and the max atom deviation (Angstrom)");
  add_chunk_options(desc);
  add_graph_option(desc);
  const std::string usage =
      "usage: axialfold bench [--device cpu|cuda] [--lengths 256,512,1024,2048] [--ops] [--modules] [--model]\n"
      "         [--evoformer-blocks 48] [--recycles 3] [--msa 512 --extra 1024 --templates 4] [--repeat N]\n"
      "         [--json FILE]   (no section named: all three)";
  ParsedOptions opts = parse_options(argc, argv, desc, usage);
  if (opts.help) {
    std::cout << usage << "\n\n" << desc << "\n";
    return 0;
  }
  const po::variables_map& vm = opts.vm;
  runtime::bench::BenchOptions o;
  o.lengths = parse_lengths(vm["lengths"].as<std::string>());
  o.ops = vm["ops"].as<bool>();
  o.modules = vm["modules"].as<bool>();
  o.model = vm["model"].as<bool>();
  o.compare_unchunked = vm["compare-unchunked"].as<bool>();
  if (!o.ops && !o.modules && !o.model) o.ops = o.modules = o.model = true;
  o.warmup = vm["warmup"].as<int>();
  o.repeat = vm["repeat"].as<int>();
  o.check_samples = vm["check-samples"].as<int>();
  o.msa = vm["msa"].as<int64_t>();
  o.extra = vm["extra"].as<int64_t>();
  o.templates = vm["templates"].as<int64_t>();
  o.seed = vm["seed"].as<uint64_t>();
  o.precision = runtime::parse_precision(vm["precision"].as<std::string>());
  o.time_budget = vm["time-budget"].as<double>();
  o.chunks = chunk_config(vm);
  o.graphs = graph_mode(vm);
  o.template_cache = !vm["no-template-cache"].as<bool>();
  o.config = model_config_from(opts, vm["preset"].as<std::string>());
  if (vm.count("evoformer-blocks")) o.config.evoformer_num_block = vm["evoformer-blocks"].as<int>();
  o.recycles = vm.count("recycles") ? vm["recycles"].as<int>() : o.config.data.num_recycle;
  AXF_CHECK(o.repeat >= 1, "--repeat must be >= 1, got ", o.repeat);
  AXF_CHECK(o.warmup >= 0, "--warmup must be >= 0, got ", o.warmup);
  AXF_CHECK(o.check_samples >= 0, "--check-samples must be >= 0, got ", o.check_samples);
  AXF_CHECK(o.msa >= 1, "--msa must be >= 1, got ", o.msa);
  AXF_CHECK(o.extra >= 0, "--extra must be >= 0, got ", o.extra);
  AXF_CHECK(o.config.evoformer_num_block >= 1, "--evoformer-blocks must be >= 1, got ", o.config.evoformer_num_block);
  AXF_CHECK(o.recycles >= 0, "--recycles must be >= 0, got ", o.recycles);
  AXF_CHECK(o.time_budget >= 0, "--time-budget must be >= 0, got ", o.time_budget);
  AXF_CHECK(o.templates >= 0 && o.templates <= o.config.templates.max_templates, "--templates ", o.templates,
            ": preset ", o.config.preset, " takes 0 to ", o.config.templates.max_templates);
  const std::string device = vm["device"].as<std::string>();
  AXF_CHECK(device == "cpu" || device.rfind("cuda", 0) == 0, "--device ", device, ": expected cpu, cuda or cuda:N");

  auto be = make_bench_backend(device, vm["threads"].as<int>());
  {
    // A precision the backend cannot run is an error now, not a failed item per section later.
    parallel::SelfCommunicator comm;
    runtime::ExecutionContext probe(*be, comm);
    runtime::apply_precision(o.precision, probe);
    runtime::apply_precision(runtime::Precision::Fp32, probe);
  }
  const std::string json = vm.count("json") ? vm["json"].as<std::string>() : std::string();
  auto progress = [&](const runtime::bench::BenchReport& r) {
    if (!json.empty()) runtime::bench::write_json(json, r);
  };
  const runtime::bench::BenchReport report = runtime::bench::run_bench(*be, o, std::cout, progress);
  if (!json.empty()) runtime::log_info("bench: wrote ", json);
  int64_t wrong_rows = 0;
  for (const auto* rows : {&report.ceilings.rows, &report.ops, &report.modules})
    for (const auto& r : *rows) wrong_rows += r.wrong > 0 ? 1 : 0;
  for (const auto& m : report.models) wrong_rows += m.row.wrong > 0 ? 1 : 0;
  if (report.failures > 0 || wrong_rows > 0) {
    std::cerr << "axialfold bench: " << report.failures << " item(s) failed, " << wrong_rows
              << " row(s) with #wrong > 0\n";
    return 1;
  }
  return 0;
}

}  // namespace axf::app
