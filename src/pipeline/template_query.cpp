#include "pipeline/template_query.h"

#include <cctype>
#include <map>
#include <set>

#include "core/error.h"
#include "io/fasta.h"

namespace axf::pipeline {

namespace {
bool is_gap(char c) { return c == '-' || c == '.'; }
}  // namespace

StockholmRows parse_stockholm_rows(std::string_view text, const std::string& source) {
  StockholmRows msa;
  std::map<std::string, size_t> index;
  const auto lines = io::split_lines(text);
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::string_view line = lines[i];
    if (io::strip(line).empty()) continue;
    const auto words = io::split_whitespace(line);
    if (line.substr(0, 4) == "#=GS") {
      if (words.size() >= 3 && words[2] == "DE") {
        // The description is everything after "DE" (AlphaFold: line.split(maxsplit=3)[3]).
        const size_t at = line.find("DE", line.find(words[1]) + words[1].size());
        msa.descriptions[std::string(words[1])] = std::string(io::strip(line.substr(at + 2)));
      }
      continue;
    }
    if (line.substr(0, 7) == "#=GC RF") {
      if (words.size() >= 3) msa.reference += std::string(words[2]);
      continue;
    }
    if (line[0] == '#' || line.substr(0, 2) == "//") continue;
    AXF_CHECK(words.size() == 2, source, ":", i + 1, ": expected '<name> <aligned sequence>'");
    const std::string name(words[0]);
    auto [it, added] = index.emplace(name, msa.names.size());
    if (added) {
      msa.names.push_back(name);
      msa.rows.emplace_back();
    }
    msa.rows[it->second] += std::string(words[1]);
  }
  AXF_CHECK(!msa.rows.empty(), source, ": no alignment rows");
  for (size_t r = 0; r < msa.rows.size(); ++r)
    AXF_CHECK(msa.rows[r].size() == msa.rows[0].size(), source, ": row '", msa.names[r], "' has ", msa.rows[r].size(),
              " columns, the query ", msa.rows[0].size());
  AXF_CHECK(msa.reference.empty() || msa.reference.size() == msa.rows[0].size(), source, ": the #=GC RF line has ",
            msa.reference.size(), " columns, the rows ", msa.rows[0].size());
  return msa;
}

void truncate_rows(StockholmRows& msa, size_t max_rows) {
  if (msa.rows.size() <= max_rows) return;
  for (size_t r = max_rows; r < msa.names.size(); ++r) msa.descriptions.erase(msa.names[r]);
  msa.names.resize(max_rows);
  msa.rows.resize(max_rows);
}

void deduplicate_rows(StockholmRows& msa) {
  const std::string& query = msa.rows.at(0);
  std::set<std::string> seen;
  StockholmRows out;
  out.reference = msa.reference;
  for (size_t r = 0; r < msa.rows.size(); ++r) {
    std::string key;
    for (size_t c = 0; c < query.size(); ++c)
      if (!is_gap(query[c])) key += msa.rows[r][c];
    if (!seen.insert(key).second) continue;
    out.names.push_back(msa.names[r]);
    out.rows.push_back(msa.rows[r]);
    if (auto it = msa.descriptions.find(msa.names[r]); it != msa.descriptions.end()) out.descriptions.insert(*it);
  }
  msa = std::move(out);
}

void remove_empty_columns(StockholmRows& msa) {
  const size_t width = msa.rows.at(0).size();
  std::vector<bool> keep(width, false);
  for (const auto& row : msa.rows)
    for (size_t c = 0; c < width; ++c)
      if (!is_gap(row[c])) keep[c] = true;
  auto mask = [&](const std::string& s) {
    std::string out;
    for (size_t c = 0; c < s.size(); ++c)
      if (keep[c]) out += s[c];
    return out;
  };
  for (auto& row : msa.rows) row = mask(row);
  if (!msa.reference.empty()) msa.reference = mask(msa.reference);
}

std::string to_stockholm(const StockholmRows& msa) {
  size_t width = 7;  // "#=GC RF"
  for (const auto& n : msa.names) width = std::max(width, n.size());
  std::string out = "# STOCKHOLM 1.0\n\n";
  for (const auto& n : msa.names)
    if (auto it = msa.descriptions.find(n); it != msa.descriptions.end())
      out += "#=GS " + n + " DE " + it->second + "\n";
  out += "\n";
  for (size_t r = 0; r < msa.rows.size(); ++r)
    out += msa.names[r] + std::string(width + 1 - msa.names[r].size(), ' ') + msa.rows[r] + "\n";
  if (!msa.reference.empty()) out += "#=GC RF" + std::string(width + 1 - 7, ' ') + msa.reference + "\n";
  out += "//\n";
  return out;
}

std::string to_a3m(const StockholmRows& msa) {
  const std::string& query = msa.rows.at(0);
  std::string out;
  for (size_t r = 0; r < msa.rows.size(); ++r) {
    const auto it = msa.descriptions.find(msa.names[r]);
    out += ">" + msa.names[r] + " " + (it == msa.descriptions.end() ? std::string() : it->second) + "\n";
    for (size_t c = 0; c < query.size(); ++c) {
      const char res = msa.rows[r][c];
      if (!is_gap(query[c]))
        out += res == '.' ? '-' : res;
      else if (!is_gap(res))
        out += static_cast<char>(std::tolower(static_cast<unsigned char>(res)));
    }
    out += "\n";
  }
  return out;
}

StockholmRows template_query_from_stockholm(std::string_view sto_text, const std::string& source, size_t max_rows) {
  StockholmRows msa = parse_stockholm_rows(sto_text, source);
  truncate_rows(msa, max_rows);
  deduplicate_rows(msa);
  remove_empty_columns(msa);
  return msa;
}

std::string a3m_without_insertions(std::string_view a3m_text) {
  std::string out;
  for (const std::string_view line : io::split_lines(a3m_text)) {
    if (!line.empty() && line[0] == '>') {
      out.append(line).append("\n");
      continue;
    }
    for (char c : line)
      if (!std::islower(static_cast<unsigned char>(c)) && c != '\0') out += c;
    out += "\n";
  }
  return out;
}

}  // namespace axf::pipeline
