// Running the MSA stage's tasks: one function per task kind, each writing into its private work folder and
// renaming its result into place only when every tool step succeeded.
#include "pipeline/msa_stage.h"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>

#include "core/error.h"
#include "pipeline/database_shards.h"
#include "pipeline/search_tools.h"
#include "pipeline/template_query.h"
#include "runtime/log.h"

namespace axf::pipeline {

namespace fs = std::filesystem;

namespace {

constexpr size_t kStderrLines = 30;
constexpr size_t kTemplateQueryRows = 10000;  // AlphaFold's uniref_max_hits, applied to the template query

std::string read_file(const fs::path& p) { return io::read_text_file(p); }

void write_file(const fs::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::binary);
  out << text;
  out.flush();
  AXF_CHECK(out.good(), "cannot write '", p.string(), "'");
}

// One task's execution on one rank.
class TaskRun {
 public:
  TaskRun(const MsaPlan& plan, const MsaTask& task, int rank, int threads)
      : plan_(plan), task_(task), rank_(rank), threads_(threads), work_(plan.work_dir(task)) {}

  TaskResult run() {
    fs::remove_all(work_);
    fs::create_directories(work_);
    if (task_.target >= 0) write_query();
    TaskResult r;
    switch (task_.kind) {
      case MsaTaskKind::kSplitDatabase:
        r = split();
        break;
      case MsaTaskKind::kJackhmmer:
        r = jackhmmer();
        break;
      case MsaTaskKind::kJackhmmerShard:
        r = jackhmmer_shard();
        break;
      case MsaTaskKind::kJackhmmerMerge:
        r = jackhmmer_merge();
        break;
      case MsaTaskKind::kHhblits:
        r = hhblits();
        break;
      case MsaTaskKind::kTemplates:
        r = templates();
        break;
      case MsaTaskKind::kMmseqs:
        r = mmseqs();
        break;
    }
    if (r.ok) fs::remove_all(work_);  // a failed task's folder stays for inspection
    return r;
  }

 private:
  const std::string& tool(const std::string& name) const { return plan_.tools.at(name); }
  fs::path db(const std::string& key) const { return plan_.config.database(key); }
  fs::path query() const { return work_ / "query.fasta"; }

  void write_query() {
    const io::FastaRecord& t = plan_.targets[task_.target];
    write_file(query(), ">" + t.description + "\n" + t.sequence + "\n");
  }

  // Runs one tool step; on failure the result names the target, database, command and the tool's stderr.
  TaskResult step(const Command& cmd, const std::string& name) {
    const fs::path out = work_ / (name + ".stdout"), err = work_ / (name + ".stderr");
    const ProcessResult pr = run_process(cmd, out, err);
    if (pr.ok()) return {};
    std::ostringstream m;
    m << (task_.target >= 0 ? "target '" + plan_.targets[task_.target].name + "', " : std::string()) << "database "
      << databases_named() << ": " << name << " failed (" << pr.describe() << ") on rank " << rank_ << "\n"
      << "  command: " << format_command(cmd) << "\n";
    std::string tail = tail_of_file(err, kStderrLines);
    fs::path shown = err;
    if (tail.empty()) {
      tail = tail_of_file(out, kStderrLines);
      shown = out;
    }
    m << "  " << (shown == err ? "stderr" : "stdout (stderr was empty)") << " (" << shown.string() << ", last "
      << kStderrLines << " lines):\n";
    std::istringstream lines(tail);
    for (std::string line; std::getline(lines, line);) m << "    " << line << "\n";
    return {false, m.str()};
  }

  std::string databases_named() const {
    if (task_.search == "bfd")
      return "bfd + " + std::string(plan_.config.has_database("uniclust30") ? "uniclust30" : "uniref30");
    if (task_.search == "templates") return plan_.template_tool == "hmmsearch" ? "pdb_seqres" : "pdb70";
    if (task_.search == "mmseqs") return "mmseqs_db";
    return task_.search;
  }

  // The tool's output becomes the task's output (same file system: an atomic rename).
  TaskResult publish(const fs::path& produced) {
    AXF_CHECK(fs::exists(produced), "target '", plan_.targets[task_.target].name, "': the tool succeeded but wrote no ",
              produced.string());
    fs::create_directories(task_.output.parent_path());
    fs::rename(produced, task_.output);
    return {};
  }

  TaskResult split() {
    const fs::path set_dir = task_.output.parent_path();
    fs::create_directories(set_dir.parent_path());
    const ShardManifest m = split_fasta_database(db(task_.search), set_dir, task_.num_shards);
    runtime::log_info("msa: ", task_.search, ": ", m.sequences, " sequences split into ", m.shards.size(),
                      " shards under ", set_dir.string());
    return {};
  }

  TaskResult jackhmmer() {
    JackhmmerArgs a{query(), db(task_.search), work_ / "out.sto", threads_, std::nullopt, std::nullopt, {}};
    if (TaskResult r = step(jackhmmer_command(tool("jackhmmer"), a), "jackhmmer"); !r.ok) return r;
    return publish(a.sto_out);
  }

  ShardManifest manifest() const {
    const fs::path set_dir = shard_set_dir(plan_.shard_root, task_.search, task_.num_shards);
    const auto m = read_shard_manifest(set_dir, db(task_.search));
    AXF_CHECK(m.has_value(), "the shards of ", task_.search, " in ", set_dir.string(),
              " are missing or older than the database");
    return *m;
  }

  // Shard k: the sequences it reports under the whole database's Z, as FASTA, and their count (written last:
  // it marks the shard finished). Shard 0 also keeps its alignment, the result when nothing is reported.
  TaskResult jackhmmer_shard() {
    const ShardManifest m = manifest();
    const fs::path results = task_.output.parent_path();
    fs::create_directories(results);
    const std::string stem = "shard-" + std::to_string(task_.shard);
    uint64_t reported = 0;
    if (static_cast<size_t>(task_.shard) < m.shards.size()) {
      JackhmmerArgs a{query(),      m.shards[task_.shard].path, work_ / "out.sto", threads_, m.sequences,
                      std::nullopt, work_ / "hits.tbl"};
      if (TaskResult r = step(jackhmmer_command(tool("jackhmmer"), a), "jackhmmer"); !r.ok) return r;
      const auto names = read_tblout_targets(a.tblout);
      reported = names.size();
      copy_records_named(m.shards[task_.shard].path, std::set<std::string>(names.begin(), names.end()),
                         work_ / "hits.fasta");
      fs::rename(work_ / "hits.fasta", results / (stem + ".hits.fasta"));
      if (task_.shard == 0) fs::rename(a.sto_out, results / "shard-0.sto");
    } else {
      write_file_atomically(results / (stem + ".hits.fasta"), "");  // more shards asked for than sequences
    }
    write_file_atomically(task_.output, std::to_string(reported) + "\n");
    return {};
  }

  // The reported sequences of all shards searched again with -Z and --domZ of the whole search.
  TaskResult jackhmmer_merge() {
    const ShardManifest m = manifest();
    const fs::path results = plan_.shard_results_dir(task_.target, task_.search, task_.num_shards);
    uint64_t dom_z = 0;
    const fs::path hits = work_ / "hits.fasta";
    {
      std::ofstream out(hits, std::ios::binary);
      for (int k = 0; k < task_.num_shards; ++k) {
        const std::string stem = "shard-" + std::to_string(k);
        dom_z += std::stoull(read_file(results / (stem + ".reported")));
        out << read_file(results / (stem + ".hits.fasta"));
      }
      AXF_CHECK(out.good(), "cannot write '", hits.string(), "'");
    }
    if (dom_z == 0) {
      publish(results / "shard-0.sto");  // no hits anywhere: the query-only alignment of any shard
    } else {
      JackhmmerArgs a{query(), hits, work_ / "out.sto", threads_, m.sequences, dom_z, {}};
      if (TaskResult r = step(jackhmmer_command(tool("jackhmmer"), a), "jackhmmer"); !r.ok) return r;
      publish(a.sto_out);
    }
    fs::remove_all(results);
    return {};
  }

  TaskResult hhblits() {
    const std::vector<fs::path> dbs = {db("bfd"),
                                       db(plan_.config.has_database("uniclust30") ? "uniclust30" : "uniref30")};
    const fs::path out = work_ / "out.a3m";
    if (TaskResult r = step(hhblits_command(tool("hhblits"), query(), out, dbs, threads_), "hhblits"); !r.ok) return r;
    return publish(out);
  }

  TaskResult templates() {
    const bool from_sto = plan_.options.pipeline == MsaPipeline::kAlphaFold;
    const fs::path input = plan_.target_dir(task_.target) / (from_sto ? "uniref90_hits.sto" : "mmseqs_hits.a3m");
    const std::string text = read_file(input);
    if (plan_.template_tool == "hhsearch") {
      const fs::path a3m = work_ / "query.a3m", hhr = work_ / "out.hhr";
      write_file(a3m, from_sto ? to_a3m(template_query_from_stockholm(text, input.string(), kTemplateQueryRows))
                               : a3m_without_nulls(text));
      if (TaskResult r = step(hhsearch_command(tool("hhsearch"), a3m, hhr, {db("pdb70")}, threads_), "hhsearch"); !r.ok)
        return r;
      return publish(hhr);
    }
    // hmmsearch: a profile from the alignment (hmmbuild --hand on the Stockholm query, as AlphaFold), then the search.
    const fs::path msa = work_ / "query.msa", hmm = work_ / "query.hmm", sto = work_ / "out.sto";
    write_file(msa, from_sto ? to_stockholm(template_query_from_stockholm(text, input.string(), kTemplateQueryRows))
                             : a3m_without_insertions(text));
    if (TaskResult r = step(hmmbuild_command(tool("hmmbuild"), msa, hmm, from_sto), "hmmbuild"); !r.ok) return r;
    if (TaskResult r = step(hmmsearch_command(tool("hmmsearch"), hmm, db("pdb_seqres"), sto, threads_), "hmmsearch");
        !r.ok)
      return r;
    return publish(sto);
  }

  TaskResult mmseqs() {
    const auto cmds = mmseqs_commands(tool("mmseqs"), query(), db("mmseqs_db"), work_, threads_);
    for (const auto& cmd : cmds)
      if (TaskResult r = step(cmd, "mmseqs-" + cmd[1]); !r.ok) return r;
    // MMseqs2 database entries end in a NUL byte; the A3M file should not.
    const fs::path a3m = work_ / "out.a3m";
    write_file(a3m, a3m_without_nulls(read_file(mmseqs_a3m_path(work_))));
    return publish(a3m);
  }

  static std::string a3m_without_nulls(std::string text) {
    std::erase(text, '\0');
    return text;
  }

  const MsaPlan& plan_;
  const MsaTask& task_;
  const int rank_, threads_;
  const fs::path work_;
};

std::string seconds_text(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f s", s);
  return buf;
}

std::string state_name(TaskState s) {
  switch (s) {
    case TaskState::kDone:
      return "done";
    case TaskState::kSkipped:
      return "skipped";
    case TaskState::kFailed:
      return "FAILED";
    case TaskState::kBlocked:
      return "blocked";
  }
  return "?";
}

}  // namespace

std::string summary_table(const MsaPlan& plan, const ScheduleResult& r) {
  std::ostringstream s;
  char line[160];
  std::snprintf(line, sizeof line,
                "msa summary: %zu targets, %zu tasks: %d done, %d skipped, %d failed, %d blocked; %.2f s\n",
                plan.targets.size(), plan.tasks.size(), r.done, r.skipped, r.failed, r.blocked, r.wall_seconds);
  s << line;
  s << "  rank   tasks  failed    busy s   busy %\n";
  for (size_t k = 0; k < r.ranks.size(); ++k) {
    const RankSummary& rs = r.ranks[k];
    std::snprintf(line, sizeof line, "  %4zu  %6d  %6d  %8.2f  %6.1f%%\n", k, rs.tasks, rs.failed, rs.busy_seconds,
                  r.wall_seconds > 0 ? 100.0 * rs.busy_seconds / r.wall_seconds : 0.0);
    s << line;
  }
  if (r.done > 0 && r.wall_seconds > 0) {
    std::snprintf(line, sizeof line, "  %.3f tasks per second\n", r.done / r.wall_seconds);
    s << line;
  }
  return s.str();
}

MsaStageReport run_msa_stage(const MsaStageOptions& options, parallel::Communicator& comm) {
  MsaPlan plan = plan_msa_stage(options);
  // Every rank checks (a tool may be missing on one node only); all fail together before any work. Rank 0
  // names everything missing; another rank adds its own list only when it differs from rank 0's.
  const std::vector<std::string> missing = check_requirements(plan);
  std::string text;
  for (const auto& m : missing) text += "\n  " + m;
  std::vector<int32_t> bad(static_cast<size_t>(comm.size()));
  const int32_t mine = missing.empty() ? 0 : 1;
  comm.all_gather(&mine, bad.data(), sizeof mine);
  if (std::count(bad.begin(), bad.end(), 1) > 0) {
    uint64_t n = text.size();
    comm.broadcast(&n, sizeof n, 0);
    std::string root_text = text;
    root_text.resize(n);
    comm.broadcast(root_text.data(), n, 0);
    if (comm.rank() == 0 && !missing.empty()) AXF_FAIL("missing before any search started:", text);
    if (comm.rank() == 0) AXF_FAIL("missing before any search started: see the other ranks' messages");
    if (missing.empty() || text == root_text) AXF_FAIL("rank ", comm.rank(), ": nothing run (see rank 0's message)");
    AXF_FAIL("missing before any search started (rank ", comm.rank(), "):", text);
  }

  MsaStageReport report;
  report.tasks = static_cast<int>(plan.tasks.size());
  report.threads = tool_threads(comm, options.threads);
  const int local_ranks = local_rank_count(comm);
  std::vector<SchedTask> sched(plan.tasks.size());
  for (size_t t = 0; t < plan.tasks.size(); ++t) {
    sched[t].label = plan.tasks[t].label;
    sched[t].cost = plan.tasks[t].cost;
    sched[t].deps = plan.tasks[t].deps;
    sched[t].intermediate =
        plan.tasks[t].kind == MsaTaskKind::kSplitDatabase || plan.tasks[t].kind == MsaTaskKind::kJackhmmerShard;
    if (comm.rank() == 0) {
      const MsaTask& mt = plan.tasks[t];
      sched[t].finished =
          mt.kind == MsaTaskKind::kSplitDatabase
              ? read_shard_manifest(mt.output.parent_path(), plan.config.database(mt.search)).has_value()
              : fs::exists(mt.output);
    }
  }
  if (comm.rank() == 0) {
    fs::create_directories(options.output_dir);
    int finished = 0;
    for (const auto& s : sched) finished += s.finished ? 1 : 0;
    std::string searches;
    for (const auto& s : plan.searches) searches += (searches.empty() ? "" : ", ") + s;
    runtime::log_info("msa: ", plan.targets.size(), " targets x {", searches, "} = ", plan.tasks.size(), " tasks (",
                      finished, " finished already) on ", comm.size(), " ranks (", local_ranks, " on this node), ",
                      report.threads, " tool threads on rank 0");
  }

  int ended = 0;
  const TaskEvent on_end = [&](int t, const TaskRecord& rec) {
    ++ended;
    if (rec.state == TaskState::kDone) {
      runtime::log_info("msa: [", ended, "] ", plan.tasks[t].label, " done on rank ", rec.rank, " in ",
                        seconds_text(rec.seconds));
    } else {
      runtime::log_info("msa: [", ended, "] ", plan.tasks[t].label, " ", state_name(rec.state), ": ", rec.message);
    }
  };
  const TaskFn run = [&](int t, int rank) { return TaskRun(plan, plan.tasks[t], rank, report.threads).run(); };
  report.schedule = run_task_graph(comm, sched, run, on_end);
  if (comm.rank() == 0) {
    for (int i = 0; i < static_cast<int>(plan.targets.size()); ++i) {
      std::error_code ec;
      fs::remove(plan.work_root(i), ec);  // only when empty: failed tasks keep their folders
    }
    std::cout << summary_table(plan, report.schedule);
    if (report.schedule.failed + report.schedule.blocked > 0) {
      std::cout << "  not finished:\n";
      for (size_t t = 0; t < plan.tasks.size(); ++t) {
        const auto& rec = report.schedule.tasks[t];
        if (rec.state != TaskState::kFailed && rec.state != TaskState::kBlocked) continue;
        std::cout << "    " << plan.tasks[t].label << " (" << state_name(rec.state) << "):\n";
        std::istringstream lines(rec.message);
        for (std::string line; std::getline(lines, line);) std::cout << "      " << line << "\n";
      }
    }
    std::cout.flush();
  }
  return report;
}

}  // namespace axf::pipeline
