#include "app/options.h"

#include <fstream>
#include <iostream>

#include "core/error.h"

namespace axf::app {

void add_common_options(po::options_description& desc) {
  desc.add_options()("help,h", "show this help")(
      "config", po::value<std::vector<std::string>>()->composing(),
      "read options from a config file (name = value; [model] section for model settings); repeatable")(
      "set", po::value<std::vector<std::string>>()->composing(),
      "override a model setting, e.g. --set evoformer_num_block=2; repeatable");
}

void add_chunk_options(po::options_description& desc) {
  desc.add_options()("chunk-msa-rows", po::value<int64_t>()->default_value(0),
                     "MSA sequences per chunk (row attention, transitions); 0 = no chunking")(
      "chunk-msa-columns", po::value<int64_t>()->default_value(0), "residues per chunk in MSA column attention")(
      "chunk-pair-rows", po::value<int64_t>()->default_value(0),
      "pair rows per chunk (triangle updates, pair transition)")(
      "chunk-opm-rows", po::value<int64_t>()->default_value(0), "output rows per chunk in the outer product mean")(
      "chunk-template-rows", po::value<int64_t>()->default_value(0), "pair rows per chunk in template embedding")(
      "chunk-triangle-channels", po::value<int64_t>()->default_value(0),
      "channels per block of the triangle multiplication's [c, L, L] projections (long sequences)")(
      "offload-pair", po::bool_switch(),
      "with --no-template-cache: keep the pair in host memory during the template stack and lend its GPU buffer to "
      "the templates (the longest sequences)");
}

runtime::ChunkConfig chunk_config(const po::variables_map& vm) {
  runtime::ChunkConfig c;
  c.msa_rows = vm["chunk-msa-rows"].as<int64_t>();
  c.msa_columns = vm["chunk-msa-columns"].as<int64_t>();
  c.pair_rows = vm["chunk-pair-rows"].as<int64_t>();
  c.opm_rows = vm["chunk-opm-rows"].as<int64_t>();
  c.template_rows = vm["chunk-template-rows"].as<int64_t>();
  c.triangle_channels = vm["chunk-triangle-channels"].as<int64_t>();
  c.offload_pair = vm["offload-pair"].as<bool>();
  AXF_CHECK(!c.offload_pair || (vm.count("no-template-cache") && vm["no-template-cache"].as<bool>()),
            "--offload-pair needs --no-template-cache (the pair leaves the GPU only while templates are streamed)");
  for (int64_t v : {c.msa_rows, c.msa_columns, c.pair_rows, c.opm_rows, c.template_rows, c.triangle_channels})
    AXF_CHECK(v >= 0, "chunk sizes must be >= 0");
  return c;
}

void add_graph_option(po::options_description& desc) {
  desc.add_options()("cuda-graphs", po::value<std::string>()->default_value("auto"),
                     "replay the extra-MSA and Evoformer stacks as CUDA graphs from the second recycling pass on: "
                     "auto (up to 384 residues, when the first pass was launch-bound and at least 16 passes follow "
                     "the recording one: recording costs about three passes), on or off");
}

runtime::GraphMode graph_mode(const po::variables_map& vm) {
  const std::string v = vm["cuda-graphs"].as<std::string>();
  if (v == "auto") return runtime::GraphMode::Auto;
  if (v == "on") return runtime::GraphMode::On;
  if (v == "off") return runtime::GraphMode::Off;
  AXF_FAIL("--cuda-graphs: expected auto, on or off, got '", v, "'");
}

namespace {
void split_assignment(const std::string& text, const std::string& source, std::map<std::string, std::string>& out) {
  const auto eq = text.find('=');
  AXF_CHECK(eq != std::string::npos && eq > 0, source, ": expected name=value, got '", text, "'");
  auto trim = [](std::string s) {
    const auto b = s.find_first_not_of(" \t"), e = s.find_last_not_of(" \t");
    return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
  };
  out[trim(text.substr(0, eq))] = trim(text.substr(eq + 1));
}
}  // namespace

ParsedOptions parse_options(int argc, char** argv, po::options_description& desc, const std::string& usage) {
  ParsedOptions opts;
  try {
    po::store(po::parse_command_line(argc, argv, desc), opts.vm);
    if (opts.vm.count("config")) {
      for (const std::string& file : opts.vm["config"].as<std::vector<std::string>>()) {
        std::ifstream in(file);
        AXF_CHECK(in.good(), "cannot read config file '", file, "'");
        const po::parsed_options parsed = po::parse_config_file(in, desc, true);
        for (const auto& o : parsed.options) {
          if (!o.unregistered) continue;
          AXF_CHECK(o.string_key.rfind("model.", 0) == 0 && !o.value.empty(), "config file '", file,
                    "': unknown option '", o.string_key, "'");
          opts.model_overrides[o.string_key.substr(6)] = o.value.front();
        }
        po::store(parsed, opts.vm);  // command-line values, stored first, take precedence
      }
    }
    po::notify(opts.vm);
  } catch (const po::error& e) {
    AXF_FAIL(e.what(), "\n", usage);
  }
  if (opts.vm.count("set"))
    for (const std::string& s : opts.vm["set"].as<std::vector<std::string>>())
      split_assignment(s, "--set", opts.model_overrides);
  opts.help = opts.vm.count("help") != 0;
  return opts;
}

model::ModelConfig model_config_from(const ParsedOptions& opts, const std::string& preset) {
  model::ModelConfig cfg = model::model_config(preset);
  model::apply_overrides(cfg, opts.model_overrides, "model settings");
  return cfg;
}

}  // namespace axf::app
