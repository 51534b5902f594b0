#include "support/gemmi_reader.h"

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <sstream>

namespace axf::test {

std::pair<int, std::string> run_capture(const std::string& cmd) {
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return {-1, out};
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), p)) > 0) out.append(buf, n);
  const int status = ::pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

// The first interpreter that can import gemmi: $AXF_PYTHON, python3 on PATH, then the system /usr/bin/python3
// (where Debian's python3-gemmi lives when PATH leads to another Python). Empty when none can.
const std::string& gemmi_python() {
  static const std::string found = [] {
    std::vector<std::string> candidates;
    if (const char* env = std::getenv("AXF_PYTHON")) candidates.emplace_back(env);
    candidates.emplace_back("python3");
    candidates.emplace_back("/usr/bin/python3");
    for (const auto& py : candidates) {
      if (run_capture(py + " -c 'import gemmi' 2>/dev/null").first == 0) return py;
    }
    return std::string();
  }();
  return found;
}

bool ReadBack::has(const std::string& line) const {
  return std::find(lines.begin(), lines.end(), line) != lines.end();
}

ReadBack read_with_gemmi(const std::filesystem::path& file) {
  ReadBack rb;
  const std::string& py = gemmi_python();
  if (py.empty()) {
    ADD_FAILURE() << "python3-gemmi is not importable (tried $AXF_PYTHON, python3, /usr/bin/python3): run "
                     "scripts/install-deps.sh (Debian package python3-gemmi)";
    return rb;
  }
  const std::string script = std::string(AXF_SOURCE_DIR) + "/tests/io/gemmi_roundtrip.py";
  const auto [rc, out] = run_capture(py + " '" + script + "' '" + file.string() + "' 2>&1");
  EXPECT_EQ(rc, 0) << "gemmi could not read " << file << ":\n" << out;
  std::istringstream in(out);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("atom ", 0) == 0) {
      std::istringstream ls(line.substr(5));
      std::vector<std::string> f;
      std::string w;
      while (ls >> w) f.push_back(w);
      rb.atoms.push_back(f);
    } else {
      rb.lines.push_back(line);
    }
  }
  return rb;
}

}  // namespace axf::test
