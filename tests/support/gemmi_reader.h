// Test support: running commands, and reading structure files back with gemmi (tests/io/gemmi_roundtrip.py) through
// the first Python that can import it ($AXF_PYTHON, python3, /usr/bin/python3; Debian package python3-gemmi).
#pragma once

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace axf::test {

// Runs a shell command; returns its exit status and standard output.
std::pair<int, std::string> run_capture(const std::string& cmd);

// The interpreter that can import gemmi, or empty.
const std::string& gemmi_python();

struct ReadBack {
  std::vector<std::string> lines;               // the non-atom lines
  std::vector<std::vector<std::string>> atoms;  // atom RESSEQ RESNAME ATOMNAME ELEMENT X Y Z B OCC, without "atom"
  bool has(const std::string& line) const;
};

// Fails the calling test (not skips) when no Python can import gemmi.
ReadBack read_with_gemmi(const std::filesystem::path& file);

}  // namespace axf::test
