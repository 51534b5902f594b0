// A3M alignments (hhblits output), read as AlphaFold's parsers.parse_a3m: upper-case letters and '-' are
// query columns, lower-case letters are insertions counted into the deletion matrix and dropped.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "io/msa.h"

namespace axf::io {

// The first record is the query. Descriptions are the header lines after '>' (as AlphaFold keeps them).
// Beyond AlphaFold: '#' comment lines before the first record are skipped, '.' (a gap in an insert column,
// which hhsuite ignores in A3M) is dropped, and the input is checked: any other character, an empty
// query, or a row whose aligned length differs from the query's is an error naming `source` and the line.
Msa parse_a3m(std::string_view text, const std::string& source);
Msa read_a3m(const std::filesystem::path& path);

}  // namespace axf::io
