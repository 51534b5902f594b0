// The MSA stage (`axialfold msa`): every (target, database) search of a FASTA file, run by the real tools
// and shared dynamically among MPI ranks (task_scheduler.h). Outputs use AlphaFold's file names, one folder
// per target: DIR/<target>/uniref90_hits.sto, mgnify_hits.sto, bfd_uniref_hits.a3m (bfd_uniclust_hits.a3m
// with a uniclust30 database), pdb70_hits.hhr (hhsearch) or pdb_hits.sto (hmmsearch), mmseqs_hits.a3m.
// Each output is written under a temporary name and renamed when its tool succeeded, so a rerun skips
// exactly the searches that finished. jackhmmer databases can be split into shards searched as separate
// tasks; the merged result equals the unsharded search (database_shards.h says why).
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "io/fasta.h"
#include "parallel/communicator.h"
#include "pipeline/database_config.h"
#include "pipeline/task_scheduler.h"

namespace axf::pipeline {

enum class MsaPipeline { kAlphaFold, kMmseqs };

struct MsaStageOptions {
  std::filesystem::path fasta;      // one or many targets
  std::filesystem::path databases;  // database config (configs/databases.example.cfg)
  std::filesystem::path output_dir;
  MsaPipeline pipeline = MsaPipeline::kAlphaFold;
  // Searches to run: uniref90, mgnify, bfd, templates (alphafold) or mmseqs, templates (mmseqs). Empty: the
  // pipeline's own (alphafold: all four, templates unless template_search = none; mmseqs: mmseqs).
  std::vector<std::string> searches;
  int shards = 1;   // jackhmmer database shards (1: unsharded)
  int threads = 0;  // tool threads per rank; 0: from Slurm or the cores (tool_threads)
};

enum class MsaTaskKind { kSplitDatabase, kJackhmmer, kJackhmmerShard, kJackhmmerMerge, kHhblits, kTemplates, kMmseqs };

struct MsaTask {
  MsaTaskKind kind = MsaTaskKind::kJackhmmer;
  int target = -1;     // index into MsaPlan::targets; -1 for a database split
  std::string search;  // uniref90, mgnify, bfd, templates, mmseqs
  int shard = -1, num_shards = 1;
  std::filesystem::path output;  // exists exactly when the task has finished
  std::vector<int> deps;
  double cost = 0;    // query length x database bytes
  std::string label;  // "T1/uniref90 shard 2/4"
};

struct MsaPlan {
  MsaStageOptions options;
  DatabaseConfig config;
  std::vector<io::FastaRecord> targets;
  std::vector<std::string> searches;
  std::string template_tool;                 // hhsearch or hmmsearch when templates are searched
  std::map<std::string, std::string> tools;  // tool name -> configured path or name (resolved by check)
  std::filesystem::path shard_root;
  std::vector<MsaTask> tasks;

  std::filesystem::path target_dir(int target) const { return options.output_dir / targets[target].name; }
  // Folder of a target's unfinished work (removed when empty at the end of a run).
  std::filesystem::path work_root(int target) const { return target_dir(target) / ".axf-work"; }
  // Private working folder of a task (emptied before, removed after a successful run).
  std::filesystem::path work_dir(const MsaTask& t) const;
  // Per-target folder of one sharded database search's intermediate results.
  std::filesystem::path shard_results_dir(int target, const std::string& search, int num_shards) const;
};

// Reads the FASTA file and the database config and lays out the tasks (nothing is run or checked on disk
// beyond reading those two files and database sizes). Every rank computes the same plan.
MsaPlan plan_msa_stage(const MsaStageOptions& options);

// The tools and databases the plan needs that are missing, one line each, naming the tool or database,
// the configured path and what is wrong. Resolves plan.tools to absolute paths.
std::vector<std::string> check_requirements(MsaPlan& plan);

// AlphaFold's output file name of a search under this plan's config.
std::string output_file_name(const MsaPlan& plan, const std::string& search);

struct MsaStageReport {
  ScheduleResult schedule;
  int tasks = 0;
  int threads = 0;  // per rank (this rank's)
  int exit_code() const { return schedule.failed + schedule.blocked > 0 ? 1 : 0; }
};

// Collective over `comm`: plans, checks requirements on every rank (throws one error listing everything
// missing before any search starts), runs the tasks, prints the summary table on rank 0 (stdout).
MsaStageReport run_msa_stage(const MsaStageOptions& options, parallel::Communicator& comm);

// Summary table: tasks, done, skipped, failed, blocked, then per rank tasks, failed and busy seconds.
std::string summary_table(const MsaPlan& plan, const ScheduleResult& result);

}  // namespace axf::pipeline
