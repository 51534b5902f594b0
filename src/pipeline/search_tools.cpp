#include "pipeline/search_tools.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <fstream>

#include "core/error.h"

extern char** environ;

namespace axf::pipeline {

namespace fs = std::filesystem;

// Numbers are written as AlphaFold's Python str() writes them, so logged commands match AlphaFold's.
// clang-format off
Command jackhmmer_command(const std::string& tool, const JackhmmerArgs& a) {
  Command c = {tool,
               "-o", "/dev/null",
               "-A", a.sto_out.string(),
               "--noali",
               "--F1", "0.0005",
               "--F2", "5e-05",
               "--F3", "5e-07",
               "--incE", "0.0001",
               "-E", "0.0001",
               "--cpu", std::to_string(a.cpus),
               "-N", "1"};
  if (!a.tblout.empty()) c.insert(c.end(), {"--tblout", a.tblout.string()});
  if (a.z_value) c.insert(c.end(), {"-Z", std::to_string(*a.z_value)});
  if (a.dom_z) c.insert(c.end(), {"--domZ", std::to_string(*a.dom_z)});
  c.insert(c.end(), {a.query.string(), a.database.string()});
  return c;
}

Command hhblits_command(const std::string& tool, const fs::path& query, const fs::path& a3m_out,
                        const std::vector<fs::path>& databases, int cpus) {
  Command c = {tool,
               "-i", query.string(),
               "-cpu", std::to_string(cpus),
               "-oa3m", a3m_out.string(),
               "-o", "/dev/null",
               "-n", "3",
               "-e", "0.001",
               "-maxseq", "1000000",
               "-realign_max", "100000",
               "-maxfilt", "100000",
               "-min_prefilter_hits", "1000"};
  for (const auto& db : databases) c.insert(c.end(), {"-d", db.string()});
  return c;
}

Command hhsearch_command(const std::string& tool, const fs::path& query_a3m, const fs::path& hhr_out,
                         const std::vector<fs::path>& databases, int cpus) {
  Command c = {tool,
               "-i", query_a3m.string(),
               "-o", hhr_out.string(),
               "-maxseq", "1000000",
               "-cpu", std::to_string(cpus)};
  for (const auto& db : databases) c.insert(c.end(), {"-d", db.string()});
  return c;
}
// clang-format on

Command hmmbuild_command(const std::string& tool, const fs::path& msa_in, const fs::path& hmm_out, bool hand) {
  Command c = {tool};
  if (hand) c.push_back("--hand");
  c.insert(c.end(), {"--amino", hmm_out.string(), msa_in.string()});
  return c;
}

// clang-format off
Command hmmsearch_command(const std::string& tool, const fs::path& hmm, const fs::path& database,
                          const fs::path& sto_out, int cpus) {
  return {tool,
          "--noali",
          "--cpu", std::to_string(cpus),
          "--F1", "0.1",
          "--F2", "0.1",
          "--F3", "0.1",
          "--incE", "100",
          "-E", "100",
          "--domE", "100",
          "--incdomE", "100",
          "-A", sto_out.string(),
          hmm.string(), database.string()};
}

std::vector<Command> mmseqs_commands(const std::string& tool, const fs::path& query, const fs::path& database,
                                     const fs::path& work, int cpus) {
  const std::string threads = std::to_string(cpus);
  const std::string qdb = (work / "qdb").string(), res = (work / "res").string(), msa = (work / "msa_db").string();
  return {
      {tool, "createdb", query.string(), qdb, "-v", "1"},
      {tool, "search", qdb, database.string(), res, (work / "tmp").string(),
       "--num-iterations", "3", "-a", "-e", "0.1", "--max-seqs", "10000", "-s", "8",
       "--threads", threads, "-v", "1"},
      {tool, "result2msa", qdb, database.string(), res, msa,
       "--msa-format-mode", "6",
       "--filter-msa", "1", "--filter-min-enable", "1000", "--diff", "3000",
       "--qid", "0.0,0.2,0.4,0.6,0.8,1.0", "--qsc", "0", "--max-seq-id", "0.95",
       "--threads", threads, "-v", "1"},
      {tool, "unpackdb", msa, (work / "msa").string(), "--unpack-name-mode", "0", "--unpack-suffix", ".a3m",
       "-v", "1"},
  };
}
// clang-format on

fs::path mmseqs_a3m_path(const fs::path& work) { return work / "msa" / "0.a3m"; }

std::string find_executable(const std::string& name_or_path) {
  auto usable = [](const fs::path& p) {
    std::error_code ec;
    return fs::is_regular_file(p, ec) && ::access(p.c_str(), X_OK) == 0;
  };
  if (name_or_path.empty()) return "";
  if (name_or_path.find('/') != std::string::npos)
    return usable(name_or_path) ? fs::absolute(name_or_path).lexically_normal().string() : "";
  const char* path = std::getenv("PATH");
  std::string dirs = path ? path : "/usr/local/bin:/usr/bin:/bin";
  size_t start = 0;
  while (start <= dirs.size()) {
    const size_t end = std::min(dirs.find(':', start), dirs.size());
    const std::string dir = dirs.substr(start, end - start);
    const fs::path candidate = fs::path(dir.empty() ? "." : dir) / name_or_path;
    if (usable(candidate)) return fs::absolute(candidate).lexically_normal().string();
    start = end + 1;
  }
  return "";
}

std::string format_command(const Command& cmd) {
  std::string out;
  for (const auto& arg : cmd) {
    if (!out.empty()) out += ' ';
    const bool plain = !arg.empty() && arg.find_first_not_of(
                                           "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                           "0123456789_-+=./,:@%") == std::string::npos;
    if (plain) {
      out += arg;
      continue;
    }
    out += '\'';
    for (char c : arg) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    out += '\'';
  }
  return out;
}

std::string ProcessResult::describe() const {
  if (signal != 0) return "killed by signal " + std::to_string(signal) + " (" + strsignal(signal) + ")";
  return "exit status " + std::to_string(exit_code);
}

ProcessResult run_process(const Command& cmd, const fs::path& stdout_file, const fs::path& stderr_file) {
  AXF_CHECK(!cmd.empty(), "run_process: empty command");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  const std::string out = stdout_file.empty() ? "/dev/null" : stdout_file.string();
  const std::string err = stderr_file.empty() ? "/dev/null" : stderr_file.string();
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  std::vector<char*> argv;
  for (const auto& a : cmd) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);

  const auto start = std::chrono::steady_clock::now();
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  AXF_CHECK(rc == 0, "cannot start '", cmd[0], "': ", std::strerror(rc));

  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    AXF_CHECK(errno == EINTR, "waitpid for '", cmd[0], "' failed: ", std::strerror(errno));
  }
  ProcessResult r;
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) r.signal = WTERMSIG(status);
  // posix_spawn reports a missing or unreadable executable as the child's exit status 127.
  return r;
}

std::string tail_of_file(const fs::path& path, size_t max_lines) {
  std::ifstream in(path);
  if (!in) return "";
  std::deque<std::string> lines;
  std::string line;
  while (std::getline(in, line)) {
    lines.push_back(line);
    if (lines.size() > max_lines) lines.pop_front();
  }
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

}  // namespace axf::pipeline
