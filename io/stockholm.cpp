#include "io/stockholm.h"

#include <unordered_map>

#include "core/error.h"
#include "io/fasta.h"

namespace axf::io {

namespace {

struct Row {
  std::string name;
  std::string sequence;  // all blocks joined, '.' read as '-'
  size_t first_line = 0;
};

}  // namespace

Msa parse_stockholm(std::string_view text, const std::string& source) {
  std::vector<Row> rows;
  std::unordered_map<std::string, size_t> index_of;

  const auto lines = split_lines(text);
  for (size_t i = 0; i < lines.size(); ++i) {
    const size_t line_no = i + 1;
    const std::string_view line = strip(lines[i]);
    if (line.empty() || line.front() == '#' || line.starts_with("//")) continue;
    const auto fields = split_whitespace(line);
    AXF_CHECK(fields.size() == 2, source, ":", line_no, ": expected '<name> <aligned sequence>', found ",
              fields.size(), " fields");
    const std::string name(fields[0]);
    auto [it, inserted] = index_of.emplace(name, rows.size());
    if (inserted) rows.push_back({name, {}, line_no});
    std::string& seq = rows[it->second].sequence;
    const std::string_view part = fields[1];
    for (size_t c = 0; c < part.size(); ++c) {
      char ch = part[c];
      if (ch == '.') ch = '-';
      AXF_CHECK((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || ch == '-', source, ":", line_no,
                ": column ", c + 1 + (part.data() - lines[i].data()), ": unexpected character '", part[c],
                "' in sequence '", name, "' (expected letters, '-' or '.')");
      seq.push_back(ch);
    }
  }
  AXF_CHECK(!rows.empty(), source, ": no aligned sequences (expected '<name> <aligned sequence>' lines)");

  const std::string& query = rows.front().sequence;
  std::vector<size_t> keep;  // columns where the query has a residue
  for (size_t c = 0; c < query.size(); ++c) {
    if (query[c] != '-') keep.push_back(c);
  }
  AXF_CHECK(!keep.empty(), source, ":", rows.front().first_line, ": the query '", rows.front().name,
            "' (first sequence) has no residues");

  Msa msa;
  msa.sequences.reserve(rows.size());
  msa.deletion_matrix.reserve(rows.size());
  msa.descriptions.reserve(rows.size());
  for (const Row& row : rows) {
    AXF_CHECK(row.sequence.size() == query.size(), source, ":", row.first_line, ": sequence '", row.name, "' has ",
              row.sequence.size(), " alignment columns over all blocks, the query '", rows.front().name, "' has ",
              query.size());
    std::string aligned;
    aligned.reserve(keep.size());
    for (size_t c : keep) aligned.push_back(row.sequence[c]);

    std::vector<int32_t> deletions;
    deletions.reserve(keep.size());
    int32_t count = 0;
    for (size_t c = 0; c < query.size(); ++c) {
      if (query[c] != '-') {
        deletions.push_back(count);
        count = 0;
      } else if (row.sequence[c] != '-') {
        ++count;
      }
    }
    msa.sequences.push_back(std::move(aligned));
    msa.deletion_matrix.push_back(std::move(deletions));
    msa.descriptions.push_back(row.name);
  }
  return msa;
}

Msa read_stockholm(const std::filesystem::path& path) {
  return parse_stockholm(read_text_file(path), path.string());
}

}  // namespace axf::io
