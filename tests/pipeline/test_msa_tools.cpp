// The MSA stage's parts that need no search tool: command lines (AlphaFold's flags), the database config,
// the template query (AlphaFold's Stockholm preprocessing), the process runner and the task scheduler.
#include <gtest/gtest.h>

#include <fstream>

#include "core/error.h"
#include "parallel/communicator.h"
#include "pipeline/database_config.h"
#include "pipeline/database_shards.h"
#include "pipeline/msa_test_data.h"
#include "pipeline/search_tools.h"
#include "pipeline/task_scheduler.h"
#include "pipeline/template_query.h"
#include "support/test_support.h"

namespace axf::pipeline {
namespace {

namespace fs = std::filesystem;

TEST(MsaCommands, JackhmmerHasAlphaFoldFlags) {
  JackhmmerArgs a{"q.fasta", "uniref90.fasta", "out.sto", 8, std::nullopt, std::nullopt, {}};
  // alphafold/data/tools/jackhmmer.py: -o /dev/null -A <sto> --noali --F1 --F2 --F3 --incE -E --cpu -N.
  EXPECT_EQ(format_command(jackhmmer_command("jackhmmer", a)),
            "jackhmmer -o /dev/null -A out.sto --noali --F1 0.0005 --F2 5e-05 --F3 5e-07 --incE 0.0001 -E 0.0001 "
            "--cpu 8 -N 1 q.fasta uniref90.fasta");
  a.z_value = 135301051;
  a.dom_z = 12;
  a.tblout = "hits.tbl";
  const Command c = jackhmmer_command("jackhmmer", a);
  const std::string line = format_command(c);
  EXPECT_NE(line.find("--tblout hits.tbl -Z 135301051 --domZ 12 q.fasta uniref90.fasta"), std::string::npos) << line;
}

TEST(MsaCommands, HhblitsHhsearchHmmsearchMmseqs) {
  EXPECT_EQ(format_command(hhblits_command("hhblits", "q.fasta", "o.a3m", {"bfd", "uniref30"}, 4)),
            "hhblits -i q.fasta -cpu 4 -oa3m o.a3m -o /dev/null -n 3 -e 0.001 -maxseq 1000000 -realign_max 100000 "
            "-maxfilt 100000 -min_prefilter_hits 1000 -d bfd -d uniref30");
  EXPECT_EQ(format_command(hhsearch_command("hhsearch", "q.a3m", "o.hhr", {"pdb70"}, 2)),
            "hhsearch -i q.a3m -o o.hhr -maxseq 1000000 -cpu 2 -d pdb70");
  EXPECT_EQ(format_command(hmmbuild_command("hmmbuild", "query.msa", "q.hmm", true)),
            "hmmbuild --hand --amino q.hmm query.msa");
  EXPECT_EQ(format_command(hmmsearch_command("hmmsearch", "q.hmm", "seqres.txt", "o.sto", 8)),
            "hmmsearch --noali --cpu 8 --F1 0.1 --F2 0.1 --F3 0.1 --incE 100 -E 100 --domE 100 --incdomE 100 -A o.sto "
            "q.hmm seqres.txt");
  const auto mm = mmseqs_commands("mmseqs", "q.fasta", "db", "w", 3);
  ASSERT_EQ(mm.size(), 4u);
  EXPECT_EQ(mm[0][1], "createdb");
  EXPECT_NE(format_command(mm[1]).find("--num-iterations 3 -a -e 0.1 --max-seqs 10000 -s 8 --threads 3"),
            std::string::npos);
  EXPECT_NE(format_command(mm[2]).find("--msa-format-mode 6 --filter-msa 1"), std::string::npos);
  EXPECT_EQ(mmseqs_a3m_path("w"), fs::path("w/msa/0.a3m"));
}

TEST(MsaCommands, FormatQuotesAndFindExecutable) {
  EXPECT_EQ(format_command({"/bin/x", "a b", "it's"}), "/bin/x 'a b' 'it'\\''s'");
  EXPECT_EQ(find_executable("sh").empty(), false);
  EXPECT_EQ(find_executable("no-such-tool-axf"), "");
  EXPECT_EQ(find_executable("/no/such/dir/tool"), "");
}

TEST(MsaProcess, CapturesStatusAndStderr) {
  const auto dir = test::scratch_dir("msa-process");
  const ProcessResult r =
      run_process({"/bin/sh", "-c", "echo out; echo 'bad thing' >&2; exit 3"}, dir / "o", dir / "e");
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(r.describe(), "exit status 3");
  EXPECT_EQ(tail_of_file(dir / "e", 5), "bad thing\n");
  EXPECT_EQ(test::slurp(dir / "o"), "out\n");
  const ProcessResult k = run_process({"/bin/sh", "-c", "kill -9 $$"}, "", "");
  EXPECT_EQ(k.signal, 9);
  EXPECT_THROW(run_process({"/no/such/tool"}, "", ""), Error);
}

TEST(MsaDatabaseConfig, KeysAliasesAndErrors) {
  const auto cfg = parse_database_config(
      "# comment\nuniref90 = /data/uniref90.fasta\nmgnify_database_path = mgy.fa  # relative\n"
      "jackhmmer_binary_path = /opt/hmmer/bin/jackhmmer\nhhblits = hhblits\ntemplate_search = hmmsearch\n"
      "shard_dir = shards\n",
      "db.cfg", "/cfg");
  EXPECT_EQ(cfg.database("uniref90"), fs::path("/data/uniref90.fasta"));
  EXPECT_EQ(cfg.database("mgnify"), fs::path("/cfg/mgy.fa"));
  EXPECT_EQ(cfg.tool("jackhmmer"), "/opt/hmmer/bin/jackhmmer");
  EXPECT_EQ(cfg.tool("hhblits"), "hhblits");
  EXPECT_EQ(cfg.tool("mmseqs"), "mmseqs");
  EXPECT_EQ(cfg.template_search, "hmmsearch");
  EXPECT_EQ(cfg.shard_dir, fs::path("/cfg/shards"));
  EXPECT_FALSE(cfg.has_database("bfd"));
  auto message = [](const std::string& text) {
    try {
      parse_database_config(text, "db.cfg", "/cfg");
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message("uniref90 = a\nunirf90 = b\n").find("db.cfg:2: unknown key 'unirf90'"), std::string::npos);
  EXPECT_NE(
      message("uniref90 = a\nuniref90_database_path = b\n").find("db.cfg:2: 'uniref90_database_path' is given twice"),
      std::string::npos);
  EXPECT_NE(message("bfd\n").find("db.cfg:1: expected 'key = value'"), std::string::npos);
  EXPECT_NE(message("bfd = \n").find("has no value"), std::string::npos);

  // The documented example parses, with AlphaFold's standard database locations.
  const auto example = read_database_config(fs::path(AXF_SOURCE_DIR) / "configs" / "databases.example.cfg");
  for (const char* key : {"uniref90", "mgnify", "bfd", "uniref30", "pdb70"})
    EXPECT_TRUE(example.has_database(key)) << key;
  EXPECT_FALSE(example.has_database("uniclust30"));
  EXPECT_EQ(example.tool("jackhmmer"), "jackhmmer");
}

// jackhmmer-style Stockholm: query with insert columns, a duplicate row, an all-gap column.
constexpr const char* kSto =
    "# STOCKHOLM 1.0\n#=GF ID q-i1\n\n#=GS q      DE query protein\n#=GS a/1-6  DE [subseq from] first\n"
    "#=GS b/2-7  DE [subseq from] second\n#=GS c/1-5  DE [subseq from] third\n\n"
    "q       AC-D-E\n"
    "a/1-6   SCkD-E\n"
    "#=GR a/1-6 PP ******\n"
    "b/2-7   SCwD-E\n"
    "c/1-5   A--D-E\n"
    "#=GC RF xx.x.x\n\n"
    "q       FG\n"
    "a/1-6   FG\n"
    "b/2-7   FG\n"
    "c/1-5   F-\n"
    "#=GC RF xx\n//\n";

TEST(MsaTemplateQuery, AlphaFoldPreprocessing) {
  StockholmRows msa = parse_stockholm_rows(kSto, "t.sto");
  ASSERT_EQ(msa.names, (std::vector<std::string>{"q", "a/1-6", "b/2-7", "c/1-5"}));
  EXPECT_EQ(msa.rows[1], "SCkD-EFG");
  EXPECT_EQ(msa.reference, "xx.x.xxx");
  EXPECT_EQ(msa.descriptions.at("a/1-6"), "[subseq from] first");
  // b equals a outside the query's gap columns: dropped. Column 4 is gaps only: dropped.
  const StockholmRows q = template_query_from_stockholm(kSto, "t.sto", 10000);
  EXPECT_EQ(q.names, (std::vector<std::string>{"q", "a/1-6", "c/1-5"}));
  EXPECT_EQ(q.rows, (std::vector<std::string>{"AC-DEFG", "SCkDEFG", "A--DEF-"}));
  EXPECT_EQ(q.reference, "xx.xxxx");
  EXPECT_EQ(to_a3m(q),
            ">q query protein\nACDEFG\n>a/1-6 [subseq from] first\nSCkDEFG\n>c/1-5 [subseq from] third\nA-DEF-\n");
  EXPECT_EQ(to_stockholm(q),
            "# STOCKHOLM 1.0\n\n#=GS q DE query protein\n#=GS a/1-6 DE [subseq from] first\n#=GS c/1-5 DE "
            "[subseq from] third\n\nq       AC-DEFG\na/1-6   SCkDEFG\nc/1-5   A--DEF-\n#=GC RF xx.xxxx\n//\n");
  EXPECT_EQ(template_query_from_stockholm(kSto, "t.sto", 2).names, (std::vector<std::string>{"q", "a/1-6"}));
  EXPECT_EQ(a3m_without_insertions(">q\nACDEFG\n>a x\nACkDEFG\n"), ">q\nACDEFG\n>a x\nACDEFG\n");
  EXPECT_THROW(parse_stockholm_rows("q ACD\na AC\n", "bad.sto"), Error);
}

TEST(MsaShards, SplitIsBalancedAndComplete) {
  const auto dir = test::scratch_dir("msa-split");
  std::vector<std::pair<std::string, std::string>> records;
  for (int i = 0; i < 50; ++i) records.emplace_back("s" + std::to_string(i), test::random_protein(i, 40 + i));
  test::write_fasta(dir / "db.fa", records);
  const ShardManifest m = split_fasta_database(dir / "db.fa", dir / "set", 4);
  ASSERT_EQ(m.shards.size(), 4u);
  EXPECT_EQ(m.sequences, 50u);
  std::string joined;
  uint64_t seqs = 0;
  for (const auto& s : m.shards) {
    joined += test::slurp(s.path);
    seqs += s.sequences;
    EXPECT_GT(s.bytes, m.source_bytes / 8);
  }
  EXPECT_EQ(seqs, 50u);
  EXPECT_EQ(joined, test::slurp(dir / "db.fa"));
  EXPECT_TRUE(read_shard_manifest(dir / "set", dir / "db.fa").has_value());
  std::ofstream(dir / "db.fa", std::ios::app) << ">extra\nACDE\n";
  EXPECT_FALSE(read_shard_manifest(dir / "set", dir / "db.fa").has_value());  // the database changed
  // More shards than sequences: one shard per sequence.
  test::write_fasta(dir / "tiny.fa", {{"a", "ACDEF"}, {"b", "GHIKL"}});
  EXPECT_EQ(split_fasta_database(dir / "tiny.fa", dir / "tiny", 5).shards.size(), 2u);
  // Records named in a list are copied unchanged.
  EXPECT_EQ(copy_records_named(dir / "tiny.fa", {"b"}, dir / "b.fa"), 1u);
  EXPECT_EQ(test::slurp(dir / "b.fa"), ">b test sequence b\nGHIKL\n");
}

// Scheduler on one rank: order, dependencies, failures, skipping.
TEST(MsaScheduler, OrderDependenciesFailuresAndSkips) {
  parallel::SelfCommunicator self;
  std::vector<SchedTask> tasks(6);
  tasks[0] = {"short", 1, {}, false};
  tasks[1] = {"long", 10, {}, false};
  tasks[2] = {"after-short", 100, {0}, false};  // its chain makes 'short' the most urgent
  tasks[3] = {"fails", 5, {}, false};
  tasks[4] = {"after-fails", 1, {3}, false};
  tasks[5] = {"finished", 50, {}, true};
  std::vector<int> order;
  const auto result = run_task_graph(self, tasks, [&](int t, int rank) {
    order.push_back(t);
    EXPECT_EQ(rank, 0);
    if (t == 3) throw Error("boom");
    return TaskResult{};
  });
  EXPECT_EQ(order, (std::vector<int>{0, 2, 1, 3}));
  EXPECT_EQ(result.done, 3);
  EXPECT_EQ(result.failed, 1);
  EXPECT_EQ(result.blocked, 1);
  EXPECT_EQ(result.skipped, 1);
  EXPECT_EQ(result.tasks[3].message, "boom");
  EXPECT_EQ(result.tasks[4].state, TaskState::kBlocked);
  ASSERT_EQ(result.ranks.size(), 1u);
  EXPECT_EQ(result.ranks[0].tasks, 4);

  // An intermediate task whose only dependent is finished is not needed; a missing result is, even when the
  // task reading it has finished (uniref90_hits.sto deleted, pdb70_hits.hhr still there).
  std::vector<SchedTask> chain = {
      {"split", 1, {}, false, true}, {"merge", 1, {0}, true}, {"uniref90", 1, {}, false}, {"templates", 1, {2}, true}};
  order.clear();
  const auto r2 = run_task_graph(self, chain, [&](int t, int) {
    order.push_back(t);
    return TaskResult{};
  });
  EXPECT_EQ(order, std::vector<int>{2});
  EXPECT_EQ(r2.skipped, 3);
  std::vector<SchedTask> cycle = {{"a", 1, {1}, false}, {"b", 1, {0}, false}};
  EXPECT_THROW(run_task_graph(self, cycle, [](int, int) { return TaskResult{}; }), Error);
}

}  // namespace
}  // namespace axf::pipeline
