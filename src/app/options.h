// Command-line and config-file options shared by the subcommands. Every long option can also be given in a
// config file (`--config FILE`, "name = value" lines, '#' comments); keys in a [model] section (or written
// "model.name") override the model preset's settings by AlphaFold's config names (see configs/*.cfg).
#pragma once

#include <boost/program_options.hpp>
#include <map>
#include <string>
#include <vector>

#include "model/config.h"
#include "runtime/execution_context.h"

namespace axf::app {

namespace po = boost::program_options;

struct ParsedOptions {
  po::variables_map vm;
  std::map<std::string, std::string> model_overrides;  // from [model] sections and --set
  bool help = false;
};

// Parses argv (argv[0] is the subcommand name) and any --config files. Unknown options are errors naming them.
ParsedOptions parse_options(int argc, char** argv, po::options_description& desc, const std::string& usage);

// Adds --config, --set, --help.
void add_common_options(po::options_description& desc);
// Adds --chunk-msa-rows, --chunk-msa-columns, --chunk-pair-rows, --chunk-opm-rows, --chunk-template-rows.
void add_chunk_options(po::options_description& desc);
runtime::ChunkConfig chunk_config(const po::variables_map& vm);
// Adds --cuda-graphs (auto, on, off).
void add_graph_option(po::options_description& desc);
runtime::GraphMode graph_mode(const po::variables_map& vm);

// The preset named by --preset with [model]/--set overrides applied.
model::ModelConfig model_config_from(const ParsedOptions& opts, const std::string& preset);

}  // namespace axf::app
