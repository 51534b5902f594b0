#include "io/a3m.h"

#include "core/error.h"
#include "io/fasta.h"

namespace axf::io {

Msa parse_a3m(std::string_view text, const std::string& source) {
  Msa msa;
  std::vector<size_t> header_lines;
  int32_t deletions = 0;  // insertions seen since the last query column of the current row

  const auto lines = split_lines(text);
  for (size_t i = 0; i < lines.size(); ++i) {
    const size_t line_no = i + 1;
    const std::string_view line = strip(lines[i]);
    if (line.empty()) continue;
    if (line.front() == '>') {
      msa.descriptions.emplace_back(line.substr(1));
      msa.sequences.emplace_back();
      msa.deletion_matrix.emplace_back();
      header_lines.push_back(line_no);
      deletions = 0;
      continue;
    }
    if (msa.sequences.empty() && line.front() == '#') continue;
    AXF_CHECK(!msa.sequences.empty(), source, ":", line_no,
              ": expected a header line starting with '>' before any aligned sequence");
    std::string& row = msa.sequences.back();
    std::vector<int32_t>& del = msa.deletion_matrix.back();
    for (size_t c = 0; c < line.size(); ++c) {
      const char ch = line[c];
      if ((ch >= 'A' && ch <= 'Z') || ch == '-') {
        row.push_back(ch);
        del.push_back(deletions);
        deletions = 0;
      } else if (ch >= 'a' && ch <= 'z') {
        ++deletions;
      } else {
        AXF_CHECK(ch == '.', source, ":", line_no, ": column ", c + 1 + (line.data() - lines[i].data()),
                  ": unexpected character '", ch,
                  "' (expected A-Z or '-' for query columns, a-z for insertions)");
      }
    }
  }

  AXF_CHECK(!msa.sequences.empty(), source, ": no A3M records (expected a header line starting with '>')");
  const size_t width = msa.sequences.front().size();
  AXF_CHECK(width > 0, source, ":", header_lines.front(), ": the query (first record) has no aligned columns");
  for (size_t r = 1; r < msa.size(); ++r) {
    AXF_CHECK(msa.sequences[r].size() == width, source, ":", header_lines[r], ": record '>",
              msa.descriptions[r].substr(0, 40), "' has ", msa.sequences[r].size(),
              " aligned columns (upper case and '-'), expected the query's ", width);
  }
  return msa;
}

Msa read_a3m(const std::filesystem::path& path) { return parse_a3m(read_text_file(path), path.string()); }

}  // namespace axf::io
