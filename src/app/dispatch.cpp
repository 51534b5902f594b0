#include <cstdio>
#include <cstring>
#include <string>

#include "app/commands.h"

namespace axf::app {

namespace {
struct Command {
  const char* name;
  int (*run)(int, char**);
  const char* summary;
};

const Command kCommands[] = {

    {"bench", run_bench, "time ops, modules and the full model against measured GEMM/copy ceilings"},
    {"features", run_features, "raw features (MSA, templates) from search-tool outputs, to HDF5"},
    {"make-params", run_make_params, "write a DeepMind-format parameter file with random values"},
    {"msa", run_msa, "run the search tools (jackhmmer, hhblits, hhsearch/hmmsearch, mmseqs) over MPI ranks"},
    {"plan", run_plan, "peak device memory of a prediction by buffer, before anything is allocated"},
    {"predict", run_predict, "run the model on processed model inputs"},
    {"show-config", run_show_config, "print a model preset's settings as a config file"},

    {nullptr, nullptr, nullptr},
};

void usage(FILE* out) {
  std::fprintf(out, "axialfold %s: AlphaFold2 inference for HPC systems\n\nusage: axialfold <command> [options]\n\n",
               AXF_VERSION);
  for (const Command* c = kCommands; c->name; ++c) std::fprintf(out, "  %-14s %s\n", c->name, c->summary);
  std::fprintf(out, "\n'axialfold <command> --help' lists a command's options.\n");
}
}  // namespace

int dispatch(int argc, char** argv) {
  if (argc < 2) {
    usage(stderr);
    return 2;
  }
  const std::string cmd = argv[1];
  if (cmd == "--help" || cmd == "-h" || cmd == "help") {
    usage(stdout);
    return 0;
  }
  if (cmd == "--version") {
    std::printf("axialfold %s\n", AXF_VERSION);
    return 0;
  }
  for (const Command* c = kCommands; c->name; ++c)
    if (cmd == c->name) return c->run(argc - 1, argv + 1);
  std::fprintf(stderr, "axialfold: unknown command '%s'\n\n", cmd.c_str());
  usage(stderr);
  return 2;
}

}  // namespace axf::app
