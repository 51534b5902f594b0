// A multiple sequence alignment as AlphaFold's parsers.Msa: rows aligned to the query (query first), every
// row exactly the query's length, plus per-column deletion counts. Made by parse_a3m and parse_stockholm.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace axf::io {

struct Msa {
  std::vector<std::string> sequences;                 // aligned, query first, all of the query's length
  std::vector<std::vector<int32_t>> deletion_matrix;  // per sequence, per query column: residues deleted before it
  std::vector<std::string> descriptions;              // A3M: header after '>'; Stockholm: the sequence name

  size_t size() const { return sequences.size(); }

  // The first `max_seqs` rows (AlphaFold's Msa.truncate).
  Msa truncated(size_t max_seqs) const {
    const size_t n = std::min(max_seqs, size());
    Msa out;
    out.sequences.assign(sequences.begin(), sequences.begin() + static_cast<std::ptrdiff_t>(n));
    out.deletion_matrix.assign(deletion_matrix.begin(), deletion_matrix.begin() + static_cast<std::ptrdiff_t>(n));
    out.descriptions.assign(descriptions.begin(), descriptions.begin() + static_cast<std::ptrdiff_t>(n));
    return out;
  }
};

}  // namespace axf::io
