#include "pipeline/msa_test_data.h"

#include <sys/stat.h>

#include <fstream>
#include <sstream>

#include "core/random.h"
#include "parallel/communicator.h"
#include "pipeline/search_tools.h"
#include "support/gemmi_reader.h"

namespace axf::test {

namespace fs = std::filesystem;

namespace {
constexpr char kAmino[] = "ACDEFGHIKLMNPQRSTVWY";

char random_residue(core::Random& rng) { return kAmino[rng.below(20)]; }

std::string random_sequence(core::Random& rng, int length) {
  std::string s;
  for (int i = 0; i < length; ++i) s += random_residue(rng);
  return s;
}

// Point substitutions (80 %), deletions (10 %) and insertions (10 %) at `rate` per residue.
std::string mutate(core::Random& rng, const std::string& s, double rate) {
  std::string out;
  for (char c : s) {
    const double u = rng.uniform();
    if (u < rate * 0.8) {
      out += random_residue(rng);
    } else if (u < rate * 0.9) {
      continue;
    } else if (u < rate) {
      out += c;
      out += random_residue(rng);
    } else {
      out += c;
    }
  }
  return out;
}

std::string shell_quoted(const fs::path& p) { return "'" + p.string() + "'"; }
}  // namespace

std::string random_protein(uint64_t seed, int length) {
  core::Random rng(seed);
  return random_sequence(rng, length);
}

std::string slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void write_fasta(const fs::path& path, const std::vector<std::pair<std::string, std::string>>& records) {
  std::ofstream out(path);
  for (const auto& [name, seq] : records) out << ">" << name << " test sequence " << name << "\n" << seq << "\n";
}

FamilyDatabase write_family_database(const fs::path& fasta, const FamilySpec& spec) {
  core::Random rng(spec.seed);
  FamilyDatabase db;
  for (int f = 0; f < spec.families; ++f)
    db.seeds.push_back(random_sequence(rng, 90 + static_cast<int>(rng.below(90))));
  db.members.resize(static_cast<size_t>(spec.families));
  std::vector<std::pair<std::string, std::string>> homologs, unrelated;
  for (int f = 0; f < spec.families; ++f)
    for (int m = 0; m < spec.members; ++m) {
      const std::string name = "fam" + std::to_string(f) + "_" + std::to_string(m);
      std::string seq = mutate(rng, db.seeds[f], 0.1 + 0.45 * rng.uniform());
      if (spec.repeat_every > 0 && m % spec.repeat_every == spec.repeat_every - 1)
        seq += random_sequence(rng, 15) + mutate(rng, db.seeds[f], 0.5);
      homologs.emplace_back(name, seq);
      db.members[f].push_back(name);
    }
  for (int k = 0; k < spec.unrelated; ++k)
    unrelated.emplace_back("rnd" + std::to_string(k), random_sequence(rng, 60 + static_cast<int>(rng.below(200))));
  // Homologs spread evenly through the file, so that every shard holds some.
  const size_t total = homologs.size() + unrelated.size();
  size_t h = 0, u = 0;
  for (size_t i = 0; i < total; ++i) {
    const bool take_homolog = h < homologs.size() && (u >= unrelated.size() || h * total <= i * homologs.size());
    db.records.push_back(take_homolog ? homologs[h++] : unrelated[u++]);
  }
  write_fasta(fasta, db.records);
  return db;
}

bool have_tool(const std::string& name) { return !pipeline::find_executable(name).empty(); }

std::string write_hhsuite_database(const fs::path& prefix,
                                   const std::vector<std::pair<std::string, std::string>>& records) {
  for (const char* tool : {"ffindex_build", "ffindex_apply", "hhmake"})
    if (!have_tool(tool)) return std::string(tool) + " not found";
  // Debian's hhsuite installs cstranslate outside PATH, behind a wrapper that looks in the wrong folder.
  std::string cstranslate;
  for (const char* c : {"cstranslate", "/usr/libexec/hhsuite/cstranslate-plain", "/usr/lib/hhsuite/bin/cstranslate"})
    if (have_tool(c) && run_capture(std::string(c) + " -h >/dev/null 2>&1").first != 127) {
      cstranslate = pipeline::find_executable(c);
      break;
    }
  if (cstranslate.empty()) return "cstranslate not found";
  fs::path data;
  for (const char* d : {"/usr/share/hhsuite/data", "/usr/lib/hhsuite/data", "/usr/local/share/hhsuite/data"})
    if (fs::exists(fs::path(d) / "cs219.lib")) data = d;
  if (data.empty()) return "cs219.lib not found";

  const fs::path a3m_dir = prefix.string() + "_a3m_files";
  fs::create_directories(a3m_dir);
  for (const auto& [name, seq] : records)
    std::ofstream(a3m_dir / (name + ".a3m")) << ">" << name << "\n" << seq << "\n";
  const std::string p = prefix.string();
  const std::string cmd = "ffindex_build -s " + shell_quoted(p + "_a3m.ffdata") + " " +
                          shell_quoted(p + "_a3m.ffindex") + " " + shell_quoted(a3m_dir) + " && ffindex_apply " +
                          shell_quoted(p + "_a3m.ffdata") + " " + shell_quoted(p + "_a3m.ffindex") + " -i " +
                          shell_quoted(p + "_hhm.ffindex") + " -d " + shell_quoted(p + "_hhm.ffdata") +
                          " -- hhmake -i stdin -o stdout -v 0" + " && " + cstranslate + " -f -x 0.3 -c 4 -I a3m -i " +
                          shell_quoted(p + "_a3m") + " -o " + shell_quoted(p + "_cs219") + " -A " +
                          shell_quoted(data / "cs219.lib") + " -D " + shell_quoted(data / "context_data.lib") + " 2>&1";
  const auto [rc, out] = run_capture("(" + cmd + ") > " + shell_quoted(p + ".build.log") + " 2>&1");
  fs::remove_all(a3m_dir);
  if (rc != 0) return "building the HH-suite database failed: " + slurp(p + ".build.log");
  return "";
}

std::string write_mmseqs_database(const fs::path& fasta, const fs::path& prefix) {
  const auto [rc, out] =
      run_capture("mmseqs createdb " + shell_quoted(fasta) + " " + shell_quoted(prefix) + " -v 1 2>&1");
  return rc == 0 ? "" : "mmseqs createdb failed: " + out;
}

fs::path write_fake_tool(const fs::path& path, const fs::path& log, const std::string& body, const std::string& real) {
  std::ofstream out(path);
  out << "#!/bin/sh\n"
      << "echo \"$*\" >> " << shell_quoted(log) << "\n"
      << body << "\n"
      << "exec " << shell_quoted(real) << " \"$@\"\n";
  out.close();
  ::chmod(path.c_str(), 0755);
  return path;
}

std::vector<std::string> stockholm_row_names(const fs::path& sto) {
  std::vector<std::string> names;
  std::istringstream in(slurp(sto));
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#' || line.rfind("//", 0) == 0) continue;
    const std::string name = line.substr(0, line.find_first_of(" \t"));
    if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
  }
  return names;
}

std::vector<std::string> a3m_row_names(const fs::path& a3m) {
  std::vector<std::string> names;
  std::istringstream in(slurp(a3m));
  for (std::string line; std::getline(in, line);)
    if (!line.empty() && line[0] == '>') names.push_back(line.substr(1, line.find_first_of(" \t") - 1));
  return names;
}

pipeline::MsaStageReport run_stage_serial(const pipeline::MsaStageOptions& options) {
  parallel::SelfCommunicator self;
  return pipeline::run_msa_stage(options, self);
}

}  // namespace axf::test
