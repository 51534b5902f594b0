#include "io/hhr.h"

#include <algorithm>
#include <cstdlib>

#include "core/error.h"
#include "io/fasta.h"

namespace axf::io {

namespace {

// Python's float(): the whole (whitespace-stripped) text must be a number.
bool to_double(std::string_view text, double& out) {
  const std::string s(strip(text));
  if (s.empty()) return false;
  char* end = nullptr;
  out = std::strtod(s.c_str(), &end);
  return end == s.c_str() + s.size();
}

bool to_int(std::string_view text, int& out) {
  const std::string_view s = strip(text);
  if (s.empty() || s.size() > 9) return false;
  int v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  out = v;
  return true;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// The part of a "Q name" / "T name" line after column 17: "<start> <residues> <end> (<length>)", as
// AlphaFold's regular expression [\t ]*([0-9]*) ([A-Z-]*)[\t ]*([0-9]*) \([0-9]*\) reads it.
struct AlignedPart {
  int start = 0;  // 1-based
  int end = 0;    // 1-based, inclusive; -1 when absent (allowed on T lines)
  std::string_view residues;
};

bool parse_aligned_part(std::string_view s, AlignedPart& out) {
  size_t i = 0;
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
  size_t b = i;
  while (i < s.size() && is_digit(s[i])) ++i;
  if (!to_int(s.substr(b, i - b), out.start)) return false;
  if (i >= s.size() || s[i] != ' ') return false;
  b = ++i;
  while (i < s.size() && ((s[i] >= 'A' && s[i] <= 'Z') || s[i] == '-')) ++i;
  out.residues = s.substr(b, i - b);
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
  b = i;
  while (i < s.size() && is_digit(s[i])) ++i;
  if (!to_int(s.substr(b, i - b), out.end)) out.end = -1;
  if (s.substr(i, 2) != " (") return false;
  i += 2;
  while (i < s.size() && is_digit(s[i])) ++i;
  return i < s.size() && s[i] == ')';
}

void append_indices(std::string_view residues, int start, std::vector<int>& indices) {
  int counter = start;
  for (char c : residues) indices.push_back(c == '-' ? -1 : counter++);
}

bool is_annotation(std::string_view line) {
  const std::string_view rest = line.substr(2);
  return rest.starts_with("ss_dssp") || rest.starts_with("ss_pred") || rest.starts_with("Consensus");
}

// One hit: lines[first, last) of the file, lines[first] starting with "No ".
TemplateHit parse_hit(const std::vector<std::string_view>& lines, size_t first, size_t last,
                      const std::string& source) {
  TemplateHit hit{};
  const size_t no_line = first + 1;
  const auto words = split_whitespace(lines[first]);
  AXF_CHECK(to_int(words.back(), hit.index), source, ":", no_line, ": expected 'No <hit number>', found '",
            lines[first], "'");

  AXF_CHECK(first + 2 < last, source, ":", no_line, ": hit ", hit.index,
            " ends before its '>name' and 'Probab=... Sum_probs=...' lines");
  const std::string_view name_line = lines[first + 1];
  AXF_CHECK(name_line.starts_with(">"), source, ":", no_line + 1, ": expected '>' and the name of hit ", hit.index);
  hit.name = std::string(name_line.substr(1));

  // Summary: Probab=... E-value=... Score=... Aligned_cols=... Identities=..% Similarity=... Sum_probs=...
  // [Template_Neff=...]; each value runs up to the next key.
  const std::string_view summary = lines[first + 2];
  const size_t summary_line = no_line + 2;
  static constexpr std::string_view kKeys[] = {"Probab=",     "E-value=",   "Score=",     "Aligned_cols=",
                                               "Identities=", "Similarity=", "Sum_probs=", "Template_Neff="};
  constexpr size_t kRequired = 7;
  AXF_CHECK(summary.starts_with(kKeys[0]), source, ":", summary_line,
            ": expected the summary 'Probab=... E-value=... Score=... Aligned_cols=... Identities=...% "
            "Similarity=... Sum_probs=...' of hit ",
            hit.index);
  size_t key_at[std::size(kKeys)];
  size_t n_keys = 0;
  for (size_t pos = 0; n_keys < std::size(kKeys); ++n_keys) {
    key_at[n_keys] = summary.find(kKeys[n_keys], pos);
    if (key_at[n_keys] == std::string_view::npos) break;
    pos = key_at[n_keys] + kKeys[n_keys].size();
  }
  AXF_CHECK(n_keys >= kRequired, source, ":", summary_line, ": expected '", kKeys[std::min(n_keys, kRequired)],
            "' in the summary of hit ", hit.index);
  double values[std::size(kKeys)] = {};
  for (size_t k = 0; k < n_keys; ++k) {
    const size_t value_at = key_at[k] + kKeys[k].size();
    const size_t value_end = k + 1 < n_keys ? key_at[k + 1] : summary.size();
    std::string_view value = strip(summary.substr(value_at, value_end - value_at));
    if (k == 4 && value.ends_with('%')) value.remove_suffix(1);  // Identities=23%
    AXF_CHECK(to_double(value, values[k]), source, ":", summary_line, ": expected a number after '", kKeys[k],
              "', found '", value, "'");
  }
  hit.aligned_cols = static_cast<int>(values[3]);
  hit.sum_probs = values[6];

  // Alignment blocks: each starts with a Q line whose start/end fix the block length; the T line matches it.
  long block_length = -1;
  for (size_t i = first + 3; i < last; ++i) {
    const std::string_view line = lines[i];
    const size_t line_no = i + 1;
    const bool is_q = line.starts_with("Q ");
    if ((!is_q && !line.starts_with("T ")) || is_annotation(line)) continue;
    AlignedPart part;
    AXF_CHECK(line.size() > 17 && parse_aligned_part(line.substr(17), part), source, ":", line_no,
              ": expected '<start> <aligned residues A-Z or -> <end> (<length>)' after column 17 of the ",
              is_q ? "query" : "template", " line of hit ", hit.index);
    const int start = part.start - 1;  // 0-based
    if (is_q) {
      AXF_CHECK(part.end >= 0, source, ":", line_no, ": expected the end position after the query residues of hit ",
                hit.index);
      long gaps = 0;
      for (char c : part.residues) gaps += c == '-';
      block_length = part.end - start + gaps;
      AXF_CHECK(block_length == static_cast<long>(part.residues.size()), source, ":", line_no, ": query block of hit ",
                hit.index, " covers positions ", part.start, "-", part.end, " with ", gaps, " gaps, so expected ",
                block_length, " aligned characters, found ", part.residues.size());
      hit.query.append(part.residues);
      append_indices(part.residues, start, hit.indices_query);
    } else {
      AXF_CHECK(block_length == static_cast<long>(part.residues.size()), source, ":", line_no,
                ": template block of hit ", hit.index, " has ", part.residues.size(), " aligned characters, expected ",
                block_length < 0 ? "a query line first" : std::to_string(block_length) + " as its query line");
      hit.hit_sequence.append(part.residues);
      append_indices(part.residues, start, hit.indices_hit);
    }
  }
  return hit;
}

}  // namespace

std::vector<TemplateHit> parse_hhr(std::string_view text, const std::string& source) {
  const auto lines = split_lines(text);
  std::vector<size_t> starts;
  for (size_t i = 0; i < lines.size(); ++i) {
    if (lines[i].starts_with("No ")) starts.push_back(i);
  }
  std::vector<TemplateHit> hits;
  hits.reserve(starts.size());
  for (size_t h = 0; h < starts.size(); ++h) {
    const size_t last = h + 1 < starts.size() ? starts[h + 1] : lines.size();
    hits.push_back(parse_hit(lines, starts[h], last, source));
  }
  return hits;
}

std::vector<TemplateHit> read_hhr(const std::filesystem::path& path) {
  return parse_hhr(read_text_file(path), path.string());
}

}  // namespace axf::io
