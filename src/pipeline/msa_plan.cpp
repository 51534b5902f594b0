// Planning of the MSA stage: which searches, which tasks, and whether every tool and database is there.
#include <unistd.h>

#include <algorithm>
#include <set>

#include "core/error.h"
#include "pipeline/database_shards.h"
#include "pipeline/msa_stage.h"
#include "pipeline/search_tools.h"

namespace axf::pipeline {

namespace fs = std::filesystem;

namespace {

uint64_t size_or_zero(const fs::path& p) {
  std::error_code ec;
  const auto n = fs::file_size(p, ec);
  return ec ? 0 : n;
}

// The database key(s) each search reads, in the order the tool takes them.
std::vector<std::string> search_databases(const MsaPlan& plan, const std::string& search) {
  if (search == "uniref90" || search == "mgnify") return {search};
  if (search == "bfd") return {"bfd", plan.config.has_database("uniclust30") ? "uniclust30" : "uniref30"};
  if (search == "templates") return {plan.template_tool == "hmmsearch" ? "pdb_seqres" : "pdb70"};
  if (search == "mmseqs") return {"mmseqs_db"};
  AXF_FAIL("unknown search '", search, "'");
}

std::vector<std::string> search_tools(const MsaPlan& plan, const std::string& search) {
  if (search == "uniref90" || search == "mgnify") return {"jackhmmer"};
  if (search == "bfd") return {"hhblits"};
  if (search == "templates")
    return plan.template_tool == "hmmsearch" ? std::vector<std::string>{"hmmbuild", "hmmsearch"}
                                             : std::vector<std::string>{"hhsearch"};
  return {"mmseqs"};
}

// Bytes a search reads per query residue, roughly: FASTA bytes for HMMER, the HH-suite profile and
// prefilter files, the MMseqs2 sequence data. Only the order of task costs matters.
double database_bytes(const MsaPlan& plan, const std::string& key) {
  if (!plan.config.has_database(key)) return 0;
  const fs::path p = plan.config.database(key);
  if (key == "uniref90" || key == "mgnify" || key == "pdb_seqres" || key == "mmseqs_db")
    return static_cast<double>(size_or_zero(p));
  return static_cast<double>(size_or_zero(p.string() + "_cs219.ffdata") + size_or_zero(p.string() + "_hhm.ffdata") +
                             size_or_zero(p.string() + "_a3m.ffdata"));
}

// Why a configured database is unusable, or "" when it looks right.
std::string database_problem(const std::string& key, const fs::path& p) {
  std::error_code ec;
  if (key == "mmseqs_db") {
    return fs::exists(p.string() + ".dbtype", ec) ? "" : "no MMseqs2 database (" + p.string() + ".dbtype not found)";
  }
  if (key == "bfd" || key == "uniref30" || key == "uniclust30" || key == "pdb70") {
    std::vector<std::string> need = {"_cs219.ffindex", "_cs219.ffdata"};
    if (key == "pdb70" && fs::exists(p.string() + "_hhm.ffindex", ec))
      need.insert(need.end(), {"_hhm.ffindex", "_hhm.ffdata"});
    else
      need.insert(need.end(), {"_a3m.ffindex", "_a3m.ffdata"});
    for (const auto& suffix : need)
      if (!fs::is_regular_file(p.string() + suffix, ec))
        return "no HH-suite database (" + p.string() + suffix + " not found)";
    return "";
  }
  if (!fs::is_regular_file(p, ec)) return fs::exists(p, ec) ? "not a regular file" : "no such file";
  if (::access(p.c_str(), R_OK) != 0) return "not readable";
  return "";
}

bool safe_target_name(const std::string& name) {
  return !name.empty() && name[0] != '.' && name.find('/') == std::string::npos;
}

}  // namespace

fs::path MsaPlan::work_dir(const MsaTask& t) const {
  if (t.target < 0) return shard_root / (".axf-work-" + t.search);
  std::string slug = t.search;
  if (t.kind == MsaTaskKind::kJackhmmerShard) slug += "-shard-" + std::to_string(t.shard);
  if (t.kind == MsaTaskKind::kJackhmmerMerge) slug += "-merge";
  return work_root(t.target) / slug;
}

fs::path MsaPlan::shard_results_dir(int target, const std::string& search, int num_shards) const {
  return work_root(target) / (search + "-" + std::to_string(num_shards) + "-shards");
}

std::string output_file_name(const MsaPlan& plan, const std::string& search) {
  if (search == "uniref90") return "uniref90_hits.sto";
  if (search == "mgnify") return "mgnify_hits.sto";
  if (search == "bfd") return plan.config.has_database("uniclust30") ? "bfd_uniclust_hits.a3m" : "bfd_uniref_hits.a3m";
  if (search == "templates") return plan.template_tool == "hmmsearch" ? "pdb_hits.sto" : "pdb70_hits.hhr";
  if (search == "mmseqs") return "mmseqs_hits.a3m";
  AXF_FAIL("unknown search '", search, "'");
}

MsaPlan plan_msa_stage(const MsaStageOptions& options) {
  MsaPlan plan;
  plan.options = options;
  AXF_CHECK(options.shards >= 1, "--shards must be >= 1, got ", options.shards);
  AXF_CHECK(!options.output_dir.empty(), "no output directory given");
  plan.config = read_database_config(options.databases);
  plan.targets = io::read_fasta(options.fasta);
  for (const auto& t : plan.targets)
    AXF_CHECK(safe_target_name(t.name), options.fasta.string(), ": target name '", t.name,
              "' cannot name an output folder (it starts with '.' or holds '/')");

  const bool alphafold = options.pipeline == MsaPipeline::kAlphaFold;
  const std::set<std::string> allowed = alphafold ? std::set<std::string>{"uniref90", "mgnify", "bfd", "templates"}
                                                  : std::set<std::string>{"mmseqs", "templates"};
  plan.searches = options.searches;
  if (plan.searches.empty()) {
    plan.searches =
        alphafold ? std::vector<std::string>{"uniref90", "mgnify", "bfd"} : std::vector<std::string>{"mmseqs"};
    if (alphafold && plan.config.template_search != "none") plan.searches.push_back("templates");
  }
  for (const auto& s : plan.searches)
    AXF_CHECK(allowed.count(s), "search '", s, "' is not part of the ", alphafold ? "alphafold" : "mmseqs",
              " pipeline (choose from: ", alphafold ? "uniref90, mgnify, bfd, templates" : "mmseqs, templates", ")");
  const bool templates = std::count(plan.searches.begin(), plan.searches.end(), "templates") > 0;
  if (templates) {
    const std::string input = alphafold ? "uniref90" : "mmseqs";
    AXF_CHECK(std::count(plan.searches.begin(), plan.searches.end(), input) > 0, "the template search reads the ",
              input, " alignment: add '", input, "' to the searches");
    plan.template_tool = plan.config.template_search;
    AXF_CHECK(plan.template_tool != "none", options.databases.string(),
              ": template_search = none, but the templates search was asked for");
    if (plan.template_tool.empty()) plan.template_tool = plan.config.has_database("pdb70") ? "hhsearch" : "hmmsearch";
  }
  AXF_CHECK(!(plan.config.has_database("uniref30") && plan.config.has_database("uniclust30")),
            options.databases.string(), ": give one of uniref30 and uniclust30 (hhblits searches BFD with one)");
  for (const auto& s : plan.searches)
    for (const auto& tool : search_tools(plan, s)) plan.tools[tool] = plan.config.tool(tool);
  plan.shard_root = plan.config.shard_dir.empty() ? options.output_dir / ".shards" : plan.config.shard_dir;

  // Tasks: database splits first (shared by all targets), then per target in FASTA order.
  std::map<std::string, int> split_task;
  const int n = options.shards;
  for (const auto& s : plan.searches) {
    if ((s != "uniref90" && s != "mgnify") || n == 1) continue;
    MsaTask t;
    t.kind = MsaTaskKind::kSplitDatabase;
    t.search = s;
    t.num_shards = n;
    t.output = shard_set_dir(plan.shard_root, s, n) / "manifest.txt";
    t.cost = database_bytes(plan, s) * 1e-3;
    t.label = s + " split into " + std::to_string(n) + " shards";
    split_task[s] = static_cast<int>(plan.tasks.size());
    plan.tasks.push_back(t);
  }
  for (int i = 0; i < static_cast<int>(plan.targets.size()); ++i) {
    const double length = static_cast<double>(plan.targets[i].sequence.size());
    const std::string& name = plan.targets[i].name;
    std::map<std::string, int> final_task;
    for (const auto& s : plan.searches) {
      if (s == "templates") continue;  // after its input's search
      MsaTask t;
      t.target = i;
      t.search = s;
      t.output = plan.target_dir(i) / output_file_name(plan, s);
      double bytes = 0;
      for (const auto& key : search_databases(plan, s)) bytes += database_bytes(plan, key);
      t.cost = length * bytes;
      t.label = name + "/" + s;
      if (s == "bfd") t.kind = MsaTaskKind::kHhblits;
      if (s == "mmseqs") t.kind = MsaTaskKind::kMmseqs;
      if ((s == "uniref90" || s == "mgnify") && n > 1) {
        std::vector<int> shard_tasks;
        for (int k = 0; k < n; ++k) {
          MsaTask sh = t;
          sh.kind = MsaTaskKind::kJackhmmerShard;
          sh.shard = k;
          sh.num_shards = n;
          sh.output = plan.shard_results_dir(i, s, n) / ("shard-" + std::to_string(k) + ".reported");
          sh.cost = t.cost / n;
          sh.deps = {split_task.at(s)};
          sh.label = name + "/" + s + " shard " + std::to_string(k + 1) + "/" + std::to_string(n);
          shard_tasks.push_back(static_cast<int>(plan.tasks.size()));
          plan.tasks.push_back(sh);
        }
        t.kind = MsaTaskKind::kJackhmmerMerge;
        t.num_shards = n;
        t.deps = shard_tasks;
        t.cost = t.cost / n * 0.05;  // a search of the hits only
        t.label = name + "/" + s + " merge of " + std::to_string(n) + " shards";
      }
      final_task[s] = static_cast<int>(plan.tasks.size());
      plan.tasks.push_back(t);
    }
    if (templates) {
      MsaTask t;
      t.kind = MsaTaskKind::kTemplates;
      t.target = i;
      t.search = "templates";
      t.output = plan.target_dir(i) / output_file_name(plan, "templates");
      t.deps = {final_task.at(alphafold ? "uniref90" : "mmseqs")};
      t.cost = length * database_bytes(plan, search_databases(plan, "templates")[0]);
      t.label = name + "/templates (" + plan.template_tool + ")";
      plan.tasks.push_back(t);
    }
  }
  return plan;
}

std::vector<std::string> check_requirements(MsaPlan& plan) {
  std::vector<std::string> missing;
  const std::string cfg = plan.options.databases.string();
  for (auto& [tool, configured] : plan.tools) {
    const std::string found = find_executable(configured);
    if (found.empty()) {
      std::string users;
      for (const auto& s : plan.searches) {
        const auto needs = search_tools(plan, s);
        if (std::find(needs.begin(), needs.end(), tool) != needs.end()) users += (users.empty() ? "" : ", ") + s;
      }
      missing.push_back("tool '" + tool + "' (needed by " + users + "): '" + configured + "' " +
                        (configured.find('/') == std::string::npos ? "is not on PATH" : "is not an executable file") +
                        "; set '" + tool + " = /path/to/" + tool + "' in " + cfg);
    } else {
      configured = found;
    }
  }
  std::set<std::string> keys;
  for (const auto& s : plan.searches)
    for (const auto& key : search_databases(plan, s)) keys.insert(key);
  for (const auto& key : database_keys()) {
    if (!keys.count(key)) continue;
    if (!plan.config.has_database(key)) {
      missing.push_back("database '" + key + "': no '" + key + " = ...' line in " + cfg);
      continue;
    }
    const fs::path p = plan.config.database(key);
    if (const std::string why = database_problem(key, p); !why.empty())
      missing.push_back("database '" + key + "' at " + p.string() + ": " + why);
  }
  return missing;
}

}  // namespace axf::pipeline
