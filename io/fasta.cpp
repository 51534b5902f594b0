#include "io/fasta.h"

#include <algorithm>
#include <fstream>
#include <sstream>
#include <unordered_map>

#include "core/error.h"

namespace axf::io {

namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

// Why a character is refused, in words a user can act on.
std::string bad_residue_reason(char c) {
  if (c >= 'a' && c <= 'z') return "lower case is not accepted (AlphaFold refuses it); write the sequence in upper case";
  if (is_space(c)) return "whitespace inside a sequence line";
  if (c == '*') return "'*' (stop) is not an amino acid; remove it";
  if (c == '-' || c == '.') return "gaps belong in alignments, not in query sequences";
  return "expected an amino-acid letter A-Z";
}

}  // namespace

std::string read_text_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  AXF_CHECK(in.good(), path.string(), ": cannot open file for reading");
  std::ostringstream ss;
  ss << in.rdbuf();
  AXF_CHECK(!in.bad(), path.string(), ": read error");
  return ss.str();
}

std::vector<std::string_view> split_lines(std::string_view text) {
  std::vector<std::string_view> lines;
  size_t start = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\n' && text[i] != '\r') continue;
    lines.push_back(text.substr(start, i - start));
    if (text[i] == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
    start = i + 1;
  }
  if (start < text.size()) lines.push_back(text.substr(start));
  return lines;
}

std::string_view strip(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && is_space(s[b])) ++b;
  while (e > b && is_space(s[e - 1])) --e;
  return s.substr(b, e - b);
}

std::vector<std::string_view> split_whitespace(std::string_view s) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && is_space(s[i])) ++i;
    const size_t b = i;
    while (i < s.size() && !is_space(s[i])) ++i;
    if (i > b) out.push_back(s.substr(b, i - b));
  }
  return out;
}

std::vector<FastaRecord> parse_fasta(std::string_view text, const std::string& source) {
  std::vector<FastaRecord> records;
  std::vector<size_t> header_lines;
  std::unordered_map<std::string, size_t> line_of_name;

  auto check_last_not_empty = [&] {
    if (records.empty()) return;
    AXF_CHECK(!records.back().sequence.empty(), source, ":", header_lines.back(), ": record '", records.back().name,
              "' has an empty sequence (expected sequence lines after the header)");
  };

  const auto lines = split_lines(text);
  for (size_t i = 0; i < lines.size(); ++i) {
    const size_t line_no = i + 1;
    const std::string_view line = strip(lines[i]);
    if (line.empty()) continue;
    if (line.front() == '>') {
      check_last_not_empty();
      FastaRecord rec;
      rec.description = std::string(strip(line.substr(1)));
      const auto words = split_whitespace(rec.description);
      AXF_CHECK(!words.empty(), source, ":", line_no, ": expected a sequence name after '>'");
      rec.name = std::string(words.front());
      const auto [it, inserted] = line_of_name.emplace(rec.name, line_no);
      AXF_CHECK(inserted, source, ":", line_no, ": duplicate sequence name '", rec.name, "' (first used on line ",
                it->second, ")");
      records.push_back(std::move(rec));
      header_lines.push_back(line_no);
      continue;
    }
    AXF_CHECK(!records.empty(), source, ":", line_no,
              ": expected a header line starting with '>' before any sequence, found '",
              line.substr(0, std::min<size_t>(line.size(), 20)), "'");
    for (size_t c = 0; c < line.size(); ++c) {
      const char ch = line[c];
      AXF_CHECK(ch >= 'A' && ch <= 'Z', source, ":", line_no, ": column ", c + 1 + (line.data() - lines[i].data()),
                ": character '", ch, "' in sequence '", records.back().name, "': ", bad_residue_reason(ch));
    }
    records.back().sequence.append(line);
  }
  check_last_not_empty();
  AXF_CHECK(!records.empty(), source, ": no FASTA records (expected a header line starting with '>')");
  return records;
}

std::vector<FastaRecord> read_fasta(const std::filesystem::path& path) {
  return parse_fasta(read_text_file(path), path.string());
}

}  // namespace axf::io
