// Small search databases for the MSA-stage tests, made on the spot: families of mutated homologs of random
// seed sequences mixed with unrelated random sequences, written as FASTA, MMseqs2 and HH-suite databases;
// fake search tools (shell scripts) that log, sleep or fail before calling the real one.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "pipeline/msa_stage.h"

namespace axf::test {

struct FamilySpec {
  int families = 4;
  int members = 20;     // homologs per family
  int unrelated = 800;  // random sequences
  uint64_t seed = 1;
  int repeat_every = 6;  // every n-th homolog carries a second, weaker copy of its family (two domains)
};

struct FamilyDatabase {
  std::vector<std::string> seeds;                            // the family ancestors (the natural queries)
  std::vector<std::vector<std::string>> members;             // names per family: "fam<f>_<m>"
  std::vector<std::pair<std::string, std::string>> records;  // (name, sequence) in file order
};

// A family database written as FASTA (names "fam<f>_<m>" and "rnd<k>", with a description).
FamilyDatabase write_family_database(const std::filesystem::path& fasta, const FamilySpec& spec);
// A random protein sequence and a mutated copy (substitutions, insertions, deletions at `rate`).
std::string random_protein(uint64_t seed, int length);

// Writes FASTA records.
void write_fasta(const std::filesystem::path& path, const std::vector<std::pair<std::string, std::string>>& records);

// Whether a program can be found (PATH or absolute path).
bool have_tool(const std::string& name);
// An HH-suite database `prefix`_{a3m,hhm,cs219}.ff{data,index}, one single-sequence A3M per record, built
// with ffindex_build, hhmake and cstranslate. Empty string on success, else why it could not be built.
std::string write_hhsuite_database(const std::filesystem::path& prefix,
                                   const std::vector<std::pair<std::string, std::string>>& records);
// `mmseqs createdb` of a FASTA file; empty string on success.
std::string write_mmseqs_database(const std::filesystem::path& fasta, const std::filesystem::path& prefix);

// A fake tool: a shell script that appends its arguments to `log`, then runs `body` (shell code that sees the
// arguments as "$@"), then execs `real` with the same arguments.
std::filesystem::path write_fake_tool(const std::filesystem::path& path, const std::filesystem::path& log,
                                      const std::string& body, const std::string& real);

// Names of the rows of a Stockholm or A3M file (Stockholm: "name/from-to" as jackhmmer writes them).
std::vector<std::string> stockholm_row_names(const std::filesystem::path& sto);
std::vector<std::string> a3m_row_names(const std::filesystem::path& a3m);

std::string slurp(const std::filesystem::path& path);

// Runs the MSA stage in this process on a one-rank communicator, with logs silenced.
pipeline::MsaStageReport run_stage_serial(const pipeline::MsaStageOptions& options);

}  // namespace axf::test
