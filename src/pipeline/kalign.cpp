#include "pipeline/kalign.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>

#include "core/error.h"
#include "io/a3m.h"

extern char** environ;

namespace axf::pipeline {

namespace {

// A fresh directory under the system temporary directory, removed with its contents on destruction.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "axf-kalign-XXXXXX").string();
    AXF_CHECK(::mkdtemp(pattern.data()) != nullptr, "kalign: cannot create a temporary directory ", pattern, ": ",
              std::strerror(errno));
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string tail(const std::string& text, size_t max_chars) {
  return text.size() <= max_chars ? text : "..." + text.substr(text.size() - max_chars);
}

// Runs argv[0] (looked up on PATH) with stdout and stderr going to `log`; returns the wait status.
int spawn_and_wait(const std::vector<std::string>& args, const std::filesystem::path& log) {
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  pid_t pid = 0;
  const int rc = ::posix_spawnp(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    throw KalignUnavailable("kalign: cannot run '" + args[0] + "': " + std::strerror(rc) +
                            " (install kalign, e.g. apt-get install kalign, or give its path)");
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    AXF_CHECK(errno == EINTR, "kalign: waitpid failed for '", args[0], "': ", std::strerror(errno));
  }
  return status;
}

}  // namespace

std::vector<std::string> kalign_align(const std::vector<std::string>& sequences, const std::string& binary) {
  AXF_CHECK(!binary.empty(), "kalign: empty binary path");
  AXF_CHECK(sequences.size() >= 2, "kalign: needs at least 2 sequences, got ", sequences.size());
  for (size_t i = 0; i < sequences.size(); ++i) {
    // AlphaFold's Kalign.align refuses these too (kalign 2 misaligns very short sequences).
    AXF_CHECK(sequences[i].size() >= 6, "kalign: sequence ", i, " ('", sequences[i],
              "') is shorter than 6 residues, which kalign does not align reliably");
    for (char c : sequences[i])
      AXF_CHECK(std::isalpha(static_cast<unsigned char>(c)), "kalign: sequence ", i, " contains '", c,
                "'; only residue letters can be aligned");
  }
  TempDir dir;
  const auto input = dir.path() / "input.fasta";
  const auto output = dir.path() / "output.a3m";
  const auto log = dir.path() / "kalign.log";
  {
    std::ofstream f(input, std::ios::binary);
    for (size_t i = 0; i < sequences.size(); ++i) f << ">sequence " << i + 1 << "\n" << sequences[i] << "\n";
    AXF_CHECK(f.good(), "kalign: cannot write ", input.string());
  }
  const int status = spawn_and_wait({binary, "-i", input.string(), "-o", output.string(), "-format", "fasta"}, log);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 127) {
    // Some C libraries report a failed exec through the child's exit status 127 instead of posix_spawnp's result.
    throw KalignUnavailable("kalign: cannot run '" + binary + "' (exit status 127; is kalign installed and on "
                            "PATH?):\n" + tail(read_text(log), 2000));
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    const std::string why = WIFEXITED(status) ? "exit status " + std::to_string(WEXITSTATUS(status))
                                              : "signal " + std::to_string(WTERMSIG(status));
    AXF_FAIL("kalign: '", binary, "' failed (", why, "):\n", tail(read_text(log), 2000));
  }
  std::error_code ec;
  AXF_CHECK(std::filesystem::is_regular_file(output, ec), "kalign: '", binary, "' wrote no output file:\n",
            tail(read_text(log), 2000));
  // AlphaFold reads kalign's aligned FASTA with its A3M parser; so do we.
  const io::Msa aligned = io::parse_a3m(read_text(output), "kalign output for " + binary);
  AXF_CHECK(aligned.size() == sequences.size(), "kalign: expected ", sequences.size(), " aligned sequences, got ",
            aligned.size());
  // Put rows back in input order by their names ("sequence N"), in case a kalign version reorders them.
  std::vector<std::string> out(sequences.size());
  for (size_t r = 0; r < aligned.size(); ++r) {
    size_t index = r;
    const std::string& d = aligned.descriptions[r];
    if (d.rfind("sequence ", 0) == 0) index = std::strtoul(d.c_str() + 9, nullptr, 10) - 1;
    AXF_CHECK(index < out.size() && out[index].empty(), "kalign: unexpected output row '", d, "'");
    out[index] = aligned.sequences[r];
  }
  for (size_t i = 0; i < out.size(); ++i) {
    size_t residues = 0;
    for (char c : out[i]) residues += c != '-';
    AXF_CHECK(residues == sequences[i].size(), "kalign: aligned row ", i, " has ", residues, " residues, input ",
              sequences[i].size());
    AXF_CHECK(out[i].size() == out[0].size(), "kalign: aligned rows have different lengths");
  }
  return out;
}

}  // namespace axf::pipeline
