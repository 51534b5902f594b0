// Stockholm alignments (jackhmmer output), read as AlphaFold's parsers.parse_stockholm: rows of a name seen
// in several blocks are joined, the first name is the query, columns where the query has a gap are removed
// and the residues other rows have there are counted into the deletion matrix.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "io/msa.h"

namespace axf::io {

// Descriptions are the sequence names (e.g. "UniRef90_D7BIZ4/1-73"), as AlphaFold returns them. Lines
// that are blank or start with '#' or '//' are skipped; '#=GS ... DE' descriptions are not read.
// Beyond AlphaFold: '.' is read as a gap like '-' (HMMER writes it in insert columns), and the input is
// checked: a line that is not "<name> <aligned sequence>", a character other than letters, '-' and '.', or
// a row whose total length differs from the query's is an error naming `source` and the line.
Msa parse_stockholm(std::string_view text, const std::string& source);
Msa read_stockholm(const std::filesystem::path& path);

}  // namespace axf::io
