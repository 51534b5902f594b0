// FASTA input sequences (the query of `axialfold msa` / `predict --fasta`), and the line-oriented text
// helpers that the alignment parsers (A3M, Stockholm, HHR) share.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace axf::io {

struct FastaRecord {
  std::string name;         // first word after '>'
  std::string description;  // the whole header after '>', trimmed (name included), as AlphaFold's parse_fasta
  std::string sequence;     // upper-case letters exactly as written (lines joined)
};

// Parses one or many records. `source` (a path or a label) names the input in error messages, which also
// give the line. Refuses: no records, text before the first '>', a header without a name, an empty
// sequence, duplicate names, and any sequence character that is not an upper-case letter A-Z.
// Letters are kept as written. AlphaFold accepts every upper-case letter (residue_constants
// sequence_to_onehot with map_unknown_to_x): the 20 standard residues keep their type and every other
// letter (X, B, Z, U, O, J) becomes unknown 'X' in aatype; in the MSA features (HHBLITS_AA_TO_ID) B->D,
// Z->E, U->C and O, J->X. Lower case, digits, '*', '-' and spaces inside a line are refused, as AlphaFold
// refuses them.
std::vector<FastaRecord> parse_fasta(std::string_view text, const std::string& source);
std::vector<FastaRecord> read_fasta(const std::filesystem::path& path);

// Whole file as text; throws naming the path when it cannot be read.
std::string read_text_file(const std::filesystem::path& path);

// Lines split as Python's str.splitlines() does for "\n", "\r\n" and "\r" (no terminators kept). The
// views point into `text`; line i has number i + 1.
std::vector<std::string_view> split_lines(std::string_view text);

// Python's str.strip() / split() for ASCII whitespace.
std::string_view strip(std::string_view s);
std::vector<std::string_view> split_whitespace(std::string_view s);

}  // namespace axf::io
