// The external search tools of the MSA stage: their command lines (AlphaFold's flags, from
// alphafold/data/tools/{jackhmmer,hhblits,hhsearch,hmmsearch,hmmbuild}.py; ColabFold's MMseqs2 steps),
// finding them on PATH, and running one as a child process with its output in files.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace axf::pipeline {

using Command = std::vector<std::string>;  // argv; argv[0] is the tool's path

// jackhmmer as AlphaFold runs it (n_iter 1, e_value 1e-4, F1/F2/F3 5e-4/5e-5/5e-7), -A Stockholm output.
// `z_value` sets the database size for E-values (a shard searched as part of a whole database),
// `dom_z` the number of significant sequences for domain E-values; `tblout` adds --tblout.
struct JackhmmerArgs {
  std::filesystem::path query, database, sto_out;
  int cpus = 1;
  std::optional<uint64_t> z_value, dom_z;
  std::filesystem::path tblout;  // empty: none
};
Command jackhmmer_command(const std::string& tool, const JackhmmerArgs& a);

// hhblits as AlphaFold runs it: -n 3 -e 0.001 -maxseq 1000000 -realign_max 100000 -maxfilt 100000
// -min_prefilter_hits 1000, A3M output, one -d per database (BFD first, then UniRef30/Uniclust30).
Command hhblits_command(const std::string& tool, const std::filesystem::path& query,
                        const std::filesystem::path& a3m_out, const std::vector<std::filesystem::path>& databases,
                        int cpus);

// hhsearch as AlphaFold runs it (-maxseq 1000000), plus -cpu (it does not change results).
Command hhsearch_command(const std::string& tool, const std::filesystem::path& query_a3m,
                         const std::filesystem::path& hhr_out, const std::vector<std::filesystem::path>& databases,
                         int cpus);

// hmmbuild --amino, with --hand when the Stockholm input's #=GC RF line marks the match columns (AlphaFold's
// template path); without it for an alignment from A3M (build_profile_from_a3m).
Command hmmbuild_command(const std::string& tool, const std::filesystem::path& msa_in,
                         const std::filesystem::path& hmm_out, bool hand);

// hmmsearch with AlphaFold's template flags (--F1/F2/F3 0.1, --incE/-E/--domE/--incdomE 100), --noali, -A.
Command hmmsearch_command(const std::string& tool, const std::filesystem::path& hmm,
                          const std::filesystem::path& database, const std::filesystem::path& sto_out, int cpus);

// MMseqs2 for one query, ColabFold's search and MSA-filter settings on a plain sequence database
// (createdb output): createdb, search (3 iterations, -e 0.1, --max-seqs 10000, -s 8), result2msa (A3M with
// ColabFold's filter: --diff 3000, --qid 0,0.2,...,1, --max-seq-id 0.95), unpackdb. All files go into
// `work`; the A3M is `work`/msa/0.a3m.
std::vector<Command> mmseqs_commands(const std::string& tool, const std::filesystem::path& query,
                                     const std::filesystem::path& database, const std::filesystem::path& work,
                                     int cpus);
std::filesystem::path mmseqs_a3m_path(const std::filesystem::path& work);

// The absolute path of an executable: `name_or_path` itself when it contains '/', else the first match on
// PATH. Empty when not found or not executable.
std::string find_executable(const std::string& name_or_path);

// A command as one shell-quoted line (for logs and error messages).
std::string format_command(const Command& cmd);

struct ProcessResult {
  int exit_code = -1;  // the tool's exit status; -1 when killed by a signal
  int signal = 0;      // the signal that ended it, 0 if none
  double seconds = 0;
  bool ok() const { return exit_code == 0 && signal == 0; }
  std::string describe() const;  // "exit status 1" / "killed by signal 9"
};

// Runs `cmd` (argv[0] must be a path) with stdin from /dev/null and stdout/stderr written to the given files
// (empty path: /dev/null). Throws only when the process cannot be started.
ProcessResult run_process(const Command& cmd, const std::filesystem::path& stdout_file,
                          const std::filesystem::path& stderr_file);

// The last `max_lines` lines of a text file (tool stderr for error reports); "" if unreadable.
std::string tail_of_file(const std::filesystem::path& path, size_t max_lines);

}  // namespace axf::pipeline
