// HHR files (hhsearch / hhblits results against PDB70): the template hits as AlphaFold's
// parsers.parse_hhr reads them from the per-hit alignment sections.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace axf::io {

struct TemplateHit {             // AlphaFold parsers.TemplateHit
  int index;                     // the number after "No "
  std::string name;              // the line after "No N" without its '>' (PDB id, chain and description)
  int aligned_cols;              // Aligned_cols=
  double sum_probs;              // Sum_probs=
  std::string query;             // aligned query residues of all blocks ('-' for gaps)
  std::string hit_sequence;      // aligned template residues, same length
  std::vector<int> indices_query;  // per aligned column: 0-based query residue index, -1 at a gap
  std::vector<int> indices_hit;    // per aligned column: 0-based template residue index, -1 at a gap
};

// Hits in file order. A hit section starts at a line beginning "No "; its next line is '>' and the name,
// then the "Probab=... Sum_probs=..." summary; "Q <name>" / "T <name>" lines (not ss_dssp, ss_pred or
// Consensus) carry the alignment, the part after column 17 being "<start> <residues> <end> (<length>)".
// Malformed sections are errors naming `source` and the line. Unlike AlphaFold, Template_Neff= may be
// missing from the summary (older hhsuite versions do not write it).
std::vector<TemplateHit> parse_hhr(std::string_view text, const std::string& source);
std::vector<TemplateHit> read_hhr(const std::filesystem::path& path);

}  // namespace axf::io
