// axialfold make-params: a parameter file in DeepMind's exact format (keys, shapes, block axes) with random
// values, for tests, demos and users without the 5.3 GB download.
#include <cstdio>
#include <iostream>

#include "app/commands.h"
#include "app/options.h"
#include "model/params.h"
#include "runtime/log.h"

namespace axf::app {

int run_make_params(int argc, char** argv) {
  po::options_description desc("axialfold make-params options");
  add_common_options(desc);
  desc.add_options()("preset", po::value<std::string>()->default_value("model_1_ptm"), "model preset")(
      "evoformer-blocks", po::value<int>(), "Evoformer blocks (default: the preset's 48)")(
      "seed", po::value<uint64_t>()->default_value(0), "random seed")("out", po::value<std::string>(),
                                                                      "output .npz file (required)");
  const std::string usage = "usage: axialfold make-params --out FILE.npz [--preset P] [--evoformer-blocks N] [--seed S]";
  ParsedOptions opts = parse_options(argc, argv, desc, usage);
  if (opts.help) {
    std::cout << usage << "\n\n" << desc << "\n";
    return 0;
  }
  if (!opts.vm.count("out")) {
    std::cerr << "axialfold make-params: --out is required\n" << usage << "\n";
    return 2;
  }
  model::ModelConfig cfg = model_config_from(opts, opts.vm["preset"].as<std::string>());
  if (opts.vm.count("evoformer-blocks")) {
    const int n = opts.vm["evoformer-blocks"].as<int>();
    AXF_CHECK(n >= 1, "--evoformer-blocks must be >= 1, got ", n);
    cfg.evoformer_num_block = n;
  }
  const std::string out = opts.vm["out"].as<std::string>();
  const uint64_t seed = opts.vm["seed"].as<uint64_t>();
  runtime::log_info("make-params: preset ", cfg.preset, ", ", cfg.evoformer_num_block, " Evoformer blocks, seed ",
                    seed, " -> ", out);
  model::write_random_params(out, cfg, seed);
  const auto spec = model::parameter_spec(cfg);
  int64_t count = 0;
  for (const auto& s : spec) count += core::shape_numel(s.shape);
  runtime::log_info("make-params: wrote ", spec.size(), " arrays, ", count, " parameters (random values: predictions "
                    "made with them are meaningless)");
  return 0;
}

}  // namespace axf::app
