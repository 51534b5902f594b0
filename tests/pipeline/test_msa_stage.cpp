// The MSA stage with the real tools (jackhmmer, hmmsearch, hhblits, hhsearch, mmseqs) on family databases
// made here: the query's family is found, a sharded jackhmmer search equals the unsharded one, reruns skip
// finished work, a killed run resumes, missing tools and databases are named before any work, and a failing
// tool is reported with its stderr while the other searches finish.
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "pipeline/msa_test_data.h"
#include "pipeline/search_tools.h"
#include "support/gemmi_reader.h"
#include "support/test_support.h"

extern char** environ;

namespace axf::test {
namespace {

namespace fs = std::filesystem;
using pipeline::MsaPipeline;
using pipeline::MsaStageOptions;

// A family database plus a FASTA of targets: family seeds (found in the database) and an unrelated one.
struct SearchData {
  fs::path dir, db, targets, config;
  FamilyDatabase family;
};

// Targets T0.. are the seeds of families 0..; Tnone (unrelated to everything) comes last unless left out.
SearchData make_setup(const std::string& tag, const std::string& config_text, int n_family_targets = 2,
                      bool with_unrelated = true) {
  SearchData s;
  s.dir = scratch_dir(tag);
  s.db = s.dir / "db.fasta";
  s.family = write_family_database(s.db, {});
  std::vector<std::pair<std::string, std::string>> targets;
  for (int t = 0; t < n_family_targets; ++t) targets.emplace_back("T" + std::to_string(t), s.family.seeds[t]);
  if (with_unrelated) targets.emplace_back("Tnone", random_protein(999, 70));
  write_fasta(s.targets = s.dir / "targets.fasta", targets);
  s.config = s.dir / "db.cfg";
  std::ofstream(s.config) << config_text;
  return s;
}

MsaStageOptions options_for(const SearchData& s, const std::string& out, std::vector<std::string> searches) {
  MsaStageOptions o;
  o.fasta = s.targets;
  o.databases = s.config;
  o.output_dir = s.dir / out;
  o.searches = std::move(searches);
  o.threads = 1;
  return o;
}

bool all_family(const std::vector<std::string>& names, int family, size_t skip_first) {
  for (size_t i = skip_first; i < names.size(); ++i)
    if (names[i].rfind("fam" + std::to_string(family) + "_", 0) != 0) return false;
  return true;
}

// Sequence names of "name/from-to" rows, each once, in order, from row `first` on.
std::vector<std::string> hit_names(const std::vector<std::string>& rows, size_t first) {
  std::vector<std::string> names;
  for (size_t i = first; i < rows.size(); ++i) {
    const std::string n = rows[i].substr(0, rows[i].find('/'));
    if (std::find(names.begin(), names.end(), n) == names.end()) names.push_back(n);
  }
  return names;
}

TEST(MsaStage, JackhmmerFindsTheFamilyAndShardsEqualUnsharded) {
  if (!have_tool("jackhmmer")) GTEST_SKIP() << "jackhmmer not installed (scripts/install-deps.sh)";
  const SearchData s = make_setup("msa-jackhmmer", "uniref90 = db.fasta\nmgnify = db.fasta\n");
  const auto one = run_stage_serial(options_for(s, "unsharded", {"uniref90", "mgnify"}));
  ASSERT_EQ(one.exit_code(), 0);
  EXPECT_EQ(one.schedule.done, 6);
  for (int t = 0; t < 2; ++t) {
    const auto rows = stockholm_row_names(s.dir / "unsharded" / ("T" + std::to_string(t)) / "uniref90_hits.sto");
    EXPECT_GE(hit_names(rows, 1).size(), 15u) << "target T" << t;  // most of the 20 homologs
    EXPECT_TRUE(all_family(rows, t, 1)) << "target T" << t;        // and nothing else
  }
  const auto none = stockholm_row_names(s.dir / "unsharded" / "Tnone" / "uniref90_hits.sto");
  EXPECT_EQ(none.size(), 1u);  // the query alone

  // The same searches over 4 shards: identical files. With 9 shards (more tasks than hits in some shards) too.
  for (int shards : {4, 9}) {
    MsaStageOptions o = options_for(s, "sharded" + std::to_string(shards), {"uniref90", "mgnify"});
    o.shards = shards;
    const auto r = run_stage_serial(o);
    ASSERT_EQ(r.exit_code(), 0);
    EXPECT_EQ(r.schedule.done, 2 + 3 * 2 * (shards + 1));
    for (const char* t : {"T0", "T1", "Tnone"})
      for (const char* f : {"uniref90_hits.sto", "mgnify_hits.sto"}) {
        const fs::path a = s.dir / "unsharded" / t / f, b = s.dir / ("sharded" + std::to_string(shards)) / t / f;
        EXPECT_EQ(stockholm_row_names(a), stockholm_row_names(b)) << b;  // hit for hit, in order
        EXPECT_EQ(slurp(a), slurp(b)) << b;                              // and byte for byte
      }
    EXPECT_FALSE(fs::exists(s.dir / ("sharded" + std::to_string(shards)) / "T0" / ".axf-work"));
  }
  // The sharded output equals jackhmmer run directly with AlphaFold's flags, too.
  pipeline::JackhmmerArgs a{s.dir / "q.fasta", s.db, s.dir / "direct.sto", 1, std::nullopt, std::nullopt, {}};
  std::ofstream(a.query) << ">T0 test sequence T0\n" << s.family.seeds[0] << "\n";
  ASSERT_TRUE(
      pipeline::run_process(pipeline::jackhmmer_command(pipeline::find_executable("jackhmmer"), a), "", "").ok());
  EXPECT_EQ(slurp(a.sto_out), slurp(s.dir / "sharded4" / "T0" / "uniref90_hits.sto"));
}

TEST(MsaStage, RerunSkipsFinishedSearches) {
  if (!have_tool("jackhmmer")) GTEST_SKIP() << "jackhmmer not installed";
  const SearchData s = make_setup("msa-rerun", "uniref90 = db.fasta\n");
  MsaStageOptions o = options_for(s, "out", {"uniref90"});
  o.shards = 2;
  ASSERT_EQ(run_stage_serial(o).schedule.done, 1 + 3 * 3);
  const fs::path f = s.dir / "out" / "T0" / "uniref90_hits.sto";
  const auto before = fs::last_write_time(f);
  fs::remove(s.dir / "out" / "T1" / "uniref90_hits.sto");
  const auto again = run_stage_serial(o);
  EXPECT_EQ(again.schedule.done, 3);  // T1: its two shards and the merge; the split is reused
  EXPECT_EQ(again.schedule.skipped, 1 + 2 * 3);
  EXPECT_EQ(fs::last_write_time(f), before);
  EXPECT_TRUE(fs::exists(s.dir / "out" / "T1" / "uniref90_hits.sto"));
}

TEST(MsaStage, MmseqsFindsTheFamily) {
  if (!have_tool("mmseqs")) GTEST_SKIP() << "mmseqs not installed";
  const SearchData s = make_setup("msa-mmseqs", "mmseqs_db = mmdb/db\n", 1, false);
  fs::create_directories(s.dir / "mmdb");
  ASSERT_EQ(write_mmseqs_database(s.db, s.dir / "mmdb" / "db"), "");
  MsaStageOptions o = options_for(s, "out", {});
  o.pipeline = MsaPipeline::kMmseqs;
  o.threads = 2;
  ASSERT_EQ(run_stage_serial(o).exit_code(), 0);
  // ColabFold's settings (-e 0.1, profile iterations) also report weak chance hits: the homologs come first.
  auto rows = a3m_row_names(s.dir / "out" / "T0" / "mmseqs_hits.a3m");
  ASSERT_GE(rows.size(), 17u);
  EXPECT_EQ(rows[0], "T0");
  rows.resize(17);
  EXPECT_TRUE(all_family(rows, 0, 1));
  EXPECT_EQ(slurp(s.dir / "out" / "T0" / "mmseqs_hits.a3m").find('\0'), std::string::npos);
}

TEST(MsaStage, HhblitsAndTemplateSearchesFindTheFamily) {
  for (const char* tool : {"jackhmmer", "hhblits", "hhsearch", "hmmsearch", "hmmbuild"})
    if (!have_tool(tool)) GTEST_SKIP() << tool << " not installed";
  const SearchData s =
      make_setup("msa-hhblits", "uniref90 = db.fasta\nbfd = hh/db\nuniref30 = hh/db\npdb70 = hh/db\n", 1);
  // A small HH-suite database (cstranslate takes 40-100 ms per entry): 12 homologs of family 0, 8 others.
  std::vector<std::pair<std::string, std::string>> entries;
  int homologs = 0, others = 0;
  for (const auto& [name, seq] : s.family.records) {
    const bool homolog = name.rfind("fam0_", 0) == 0;
    if ((homolog && homologs++ < 12) || (name.rfind("rnd", 0) == 0 && others++ < 8)) entries.emplace_back(name, seq);
  }
  fs::create_directories(s.dir / "hh");
  if (const std::string why = write_hhsuite_database(s.dir / "hh" / "db", entries); !why.empty())
    GTEST_SKIP() << "no HH-suite database: " << why;
  MsaStageOptions o = options_for(s, "out", {"uniref90", "bfd", "templates"});
  o.threads = 2;
  const auto r = run_stage_serial(o);
  ASSERT_EQ(r.exit_code(), 0);
  const auto bfd = a3m_row_names(s.dir / "out" / "T0" / "bfd_uniref_hits.a3m");
  EXPECT_GE(bfd.size(), 11u);
  EXPECT_TRUE(all_family(bfd, 0, 1));
  const std::string hhr = slurp(s.dir / "out" / "T0" / "pdb70_hits.hhr");
  EXPECT_NE(hhr.find("Query         T0"), std::string::npos);
  EXPECT_NE(hhr.find("\n  1 fam0_"), std::string::npos) << hhr.substr(0, 800);  // the best template is a homolog

  // hmmsearch against a pdb_seqres-like FASTA (AlphaFold's other template searcher).
  std::ofstream(s.config, std::ios::app) << "pdb_seqres = db.fasta\ntemplate_search = hmmsearch\n";
  const auto h = run_stage_serial(options_for(s, "out", {"uniref90", "templates"}));
  ASSERT_EQ(h.exit_code(), 0);
  EXPECT_EQ(h.schedule.done, 2);  // only the new template searches; uniref90 is reused
  // hmmsearch reports down to E = 100 (AlphaFold's flags): the homologs come first.
  auto names = hit_names(stockholm_row_names(s.dir / "out" / "T0" / "pdb_hits.sto"), 0);
  ASSERT_GE(names.size(), 15u);
  names.resize(15);
  EXPECT_TRUE(all_family(names, 0, 0));
}

// ---- The binary: missing tools, failing tools, a killed run -----------------------------------------

std::pair<int, std::string> run_msa_binary(const std::string& args) {
  return run_capture("env -u AXF_LOG_QUIET " + axialfold_binary().string() + " msa " + args + " 2>&1");
}

TEST(MsaStage, MissingToolAndDatabaseAreNamedBeforeAnyWork) {
  const SearchData s = make_setup("msa-missing",
                                  "uniref90 = /no/such/uniref90.fasta\nmgnify = db.fasta\n"
                                  "jackhmmer = /no/such/bin/jackhmmer\n");
  const auto [rc, out] = run_msa_binary("--fasta " + s.targets.string() + " --databases " + s.config.string() +
                                        " --output-dir " + (s.dir / "out").string() + " --searches uniref90,mgnify");
  EXPECT_NE(rc, 0);
  EXPECT_NE(out.find("missing before any search started"), std::string::npos) << out;
  EXPECT_NE(out.find("tool 'jackhmmer' (needed by uniref90, mgnify): '/no/such/bin/jackhmmer'"), std::string::npos)
      << out;
  EXPECT_NE(out.find("database 'uniref90' at /no/such/uniref90.fasta: no such file"), std::string::npos) << out;
  EXPECT_FALSE(fs::exists(s.dir / "out"));
  // A search whose database is not configured at all.
  const auto [rc2, out2] = run_msa_binary("--fasta " + s.targets.string() + " --databases " + s.config.string() +
                                          " --output-dir " + (s.dir / "out").string() + " --searches uniref90,bfd");
  EXPECT_NE(rc2, 0);
  EXPECT_NE(out2.find("database 'bfd': no 'bfd = ...' line"), std::string::npos) << out2;
  EXPECT_NE(out2.find("database 'uniref30': no 'uniref30 = ...' line"), std::string::npos) << out2;
}

TEST(MsaStage, FailingToolIsReportedAndOtherSearchesFinish) {
  if (!have_tool("jackhmmer")) GTEST_SKIP() << "jackhmmer not installed";
  const SearchData s = make_setup("msa-failing", "");
  const fs::path fake = write_fake_tool(
      s.dir / "jackhmmer", s.dir / "calls.log",
      "case \"$*\" in */T1/.axf-work/*) echo 'fake jackhmmer: cannot read the database shard' >&2; exit 1;; esac",
      pipeline::find_executable("jackhmmer"));
  std::ofstream(s.config) << "uniref90 = db.fasta\nmgnify = db.fasta\njackhmmer = " << fake.string() << "\n";
  const auto [rc, out] =
      run_msa_binary("--fasta " + s.targets.string() + " --databases " + s.config.string() + " --output-dir " +
                     (s.dir / "out").string() + " --searches uniref90,mgnify --threads 1");
  EXPECT_EQ(rc, 1) << out;
  EXPECT_NE(out.find("target 'T1', database uniref90: jackhmmer failed (exit status 1) on rank 0"), std::string::npos)
      << out;
  EXPECT_NE(out.find("target 'T1', database mgnify: jackhmmer failed"), std::string::npos) << out;
  EXPECT_NE(out.find("command: " + fake.string() + " -o /dev/null -A "), std::string::npos) << out;
  EXPECT_NE(out.find("fake jackhmmer: cannot read the database shard"), std::string::npos) << out;
  EXPECT_NE(out.find("6 tasks: 4 done, 0 skipped, 2 failed"), std::string::npos) << out;
  for (const char* t : {"T0", "Tnone"})
    for (const char* f : {"uniref90_hits.sto", "mgnify_hits.sto"}) EXPECT_TRUE(fs::exists(s.dir / "out" / t / f));
  EXPECT_FALSE(fs::exists(s.dir / "out" / "T1" / "uniref90_hits.sto"));
}

TEST(MsaStage, KilledRunResumesWithTheUnfinishedSearchesOnly) {
  if (!have_tool("jackhmmer")) GTEST_SKIP() << "jackhmmer not installed";
  const SearchData s = make_setup("msa-killed", "");
  const fs::path log = s.dir / "calls.log", flag = s.dir / "sleep.flag";
  // Tnone is the shortest target, so it runs last; it hangs while the flag file exists.
  const fs::path fake = write_fake_tool(
      s.dir / "jackhmmer", log,
      "case \"$*\" in */Tnone/.axf-work/*) while [ -e '" + flag.string() + "' ]; do sleep 0.1; done;; esac",
      pipeline::find_executable("jackhmmer"));
  std::ofstream(s.config) << "uniref90 = db.fasta\njackhmmer = " << fake.string() << "\n";
  std::ofstream(flag) << "hang\n";
  const std::string out_dir = (s.dir / "out").string();
  std::vector<std::string> args = {axialfold_binary().string(),
                                   "msa",
                                   "--fasta",
                                   s.targets.string(),
                                   "--databases",
                                   s.config.string(),
                                   "--output-dir",
                                   out_dir,
                                   "--searches",
                                   "uniref90",
                                   "--threads",
                                   "1"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setpgroup(&attr, 0);  // its own process group, so the hanging tool dies with it
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
  pid_t pid = 0;
  ASSERT_EQ(posix_spawn(&pid, argv[0], nullptr, &attr, argv.data(), environ), 0);
  posix_spawnattr_destroy(&attr);
  bool hanging = false;
  for (int i = 0; i < 300 && !hanging; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    hanging = slurp(log).find("/Tnone/") != std::string::npos;
  }
  ::kill(-pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  ASSERT_TRUE(hanging) << slurp(log);
  EXPECT_TRUE(fs::exists(s.dir / "out" / "T0" / "uniref90_hits.sto"));
  EXPECT_TRUE(fs::exists(s.dir / "out" / "T1" / "uniref90_hits.sto"));
  EXPECT_FALSE(fs::exists(s.dir / "out" / "Tnone" / "uniref90_hits.sto"));

  fs::remove(flag);
  fs::remove(log);
  const auto [rc, out] = run_msa_binary("--fasta " + s.targets.string() + " --databases " + s.config.string() +
                                        " --output-dir " + out_dir + " --searches uniref90 --threads 1");
  EXPECT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("3 tasks: 1 done, 2 skipped, 0 failed"), std::string::npos) << out;
  const std::string calls = slurp(log);
  EXPECT_NE(calls.find("/Tnone/"), std::string::npos) << calls;
  EXPECT_EQ(calls.find("/T0/"), std::string::npos) << calls;
  EXPECT_EQ(calls.find("/T1/"), std::string::npos) << calls;
  EXPECT_TRUE(fs::exists(s.dir / "out" / "Tnone" / "uniref90_hits.sto"));
}

}  // namespace
}  // namespace axf::test
