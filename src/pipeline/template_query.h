// The query of the template search, made from the UniRef90 alignment as AlphaFold's DataPipeline makes it:
// the first 10,000 rows of uniref90_hits.sto (truncate_stockholm_msa), duplicates removed ignoring insertions
// (deduplicate_stockholm_msa), all-gap columns removed (remove_empty_columns_from_stockholm_msa), then given
// to hmmbuild --hand as Stockholm or to hhsearch as A3M (convert_stockholm_to_a3m). Works on the aligned
// text rows, insert columns included, which an MSA parsed for features (io/stockholm.h) no longer has.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace axf::pipeline {

struct StockholmRows {
  std::vector<std::string> names;                   // query first, in file order
  std::vector<std::string> rows;                    // aligned rows, blocks joined, all of one length
  std::map<std::string, std::string> descriptions;  // from '#=GS <name> DE <text>'
  std::string reference;                            // the '#=GC RF' line's annotation (blocks joined); may be empty
};

// Reads a Stockholm alignment; `source` names it in errors (a row line that is not "<name> <row>", rows of
// different lengths, no rows).
StockholmRows parse_stockholm_rows(std::string_view text, const std::string& source);

// Keeps the first `max_rows` rows (query included).
void truncate_rows(StockholmRows& msa, size_t max_rows);
// Drops a row whose residues in the query's non-gap columns equal an earlier row's.
void deduplicate_rows(StockholmRows& msa);
// Drops columns where every row has a gap ('-' or '.'); the reference annotation follows.
void remove_empty_columns(StockholmRows& msa);

// Stockholm text: header, '#=GS ... DE' lines of the rows kept, one block of rows, '#=GC RF', '//'.
std::string to_stockholm(const StockholmRows& msa);
// A3M text: query non-gap columns as written, other columns lower case with gaps dropped; headers
// ">name description".
std::string to_a3m(const StockholmRows& msa);

// AlphaFold's template query from the text of uniref90_hits.sto: truncate, deduplicate, remove empty columns.
StockholmRows template_query_from_stockholm(std::string_view sto_text, const std::string& source, size_t max_rows);

// An A3M alignment with its insertions (lower-case letters) removed, as AlphaFold gives an A3M to hmmbuild.
std::string a3m_without_insertions(std::string_view a3m_text);

}  // namespace axf::pipeline
