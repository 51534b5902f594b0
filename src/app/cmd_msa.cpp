// axialfold msa: the search-tool stage. Every (target, database) search of a FASTA file, shared dynamically
// among the MPI ranks it was started with (mpirun -np R / srun), AlphaFold's output names per target.
#include <iostream>
#include <sstream>

#include "app/commands.h"
#include "app/options.h"
#include "core/error.h"
#include "parallel/communicator.h"
#include "pipeline/msa_stage.h"

namespace axf::app {

int run_msa(int argc, char** argv) {
  po::options_description desc("axialfold msa options");
  add_common_options(desc);
  desc.add_options()("fasta", po::value<std::string>(), "targets, one or many FASTA records (required)")(
      "databases", po::value<std::string>(),
      "database and tool config file (required; see configs/databases.example.cfg)")(
      "output-dir", po::value<std::string>(), "output folder: one sub-folder per target (required)")(
      "pipeline", po::value<std::string>()->default_value("alphafold"),
      "alphafold (jackhmmer UniRef90 + MGnify, hhblits BFD + UniRef30, templates) or mmseqs (MMseqs2)")(
      "searches", po::value<std::string>(),
      "comma-separated subset: uniref90,mgnify,bfd,templates (alphafold) or mmseqs,templates (mmseqs)")(
      "shards", po::value<int>()->default_value(1),
      "split each jackhmmer database into N shards searched as separate tasks (same hits as unsharded)")(
      "threads", po::value<int>()->default_value(0),
      "threads per tool run on each rank (0: SLURM_CPUS_PER_TASK, else this rank's share of the cores)");
  const std::string usage =
      "usage: [mpirun -np R] axialfold msa --fasta FILE --databases DB.cfg --output-dir DIR "
      "[--pipeline alphafold|mmseqs] [--searches LIST] [--shards N] [--threads T]";
  ParsedOptions opts = parse_options(argc, argv, desc, usage);
  if (opts.help) {
    std::cout << usage << "\n\n" << desc << "\n";
    return 0;
  }
  for (const char* required : {"fasta", "databases", "output-dir"}) {
    if (!opts.vm.count(required)) {
      std::cerr << "axialfold msa: --" << required << " is required\n" << usage << "\n";
      return 2;
    }
  }
  pipeline::MsaStageOptions o;
  o.fasta = opts.vm["fasta"].as<std::string>();
  o.databases = opts.vm["databases"].as<std::string>();
  o.output_dir = opts.vm["output-dir"].as<std::string>();
  const std::string name = opts.vm["pipeline"].as<std::string>();
  AXF_CHECK(name == "alphafold" || name == "mmseqs", "--pipeline must be alphafold or mmseqs, got '", name, "'");
  o.pipeline = name == "mmseqs" ? pipeline::MsaPipeline::kMmseqs : pipeline::MsaPipeline::kAlphaFold;
  if (opts.vm.count("searches")) {
    std::istringstream list(opts.vm["searches"].as<std::string>());
    for (std::string s; std::getline(list, s, ',');)
      if (!s.empty()) o.searches.push_back(s);
  }
  o.shards = opts.vm["shards"].as<int>();
  o.threads = opts.vm["threads"].as<int>();
  AXF_CHECK(o.threads >= 0, "--threads must be >= 0, got ", o.threads);
  return pipeline::run_msa_stage(o, parallel::world()).exit_code();
}

}  // namespace axf::app
