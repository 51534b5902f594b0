// A3M and Stockholm alignments: AlphaFold's parse_a3m / parse_stockholm on the real hhblits and jackhmmer
// outputs in shared/data (deletion counts checked by hand against the files), multi-block Stockholm, and
// malformed inputs (each error naming the source and the line).
#include <gtest/gtest.h>

#include <numeric>
#include <string>

#include "io/a3m.h"
#include "io/fasta.h"
#include "io/stockholm.h"
#include "io_test_helpers.h"
#include "support/test_support.h"

namespace axf::io {
namespace {

using axf::test::expect_axf_error;

std::filesystem::path alignments(const std::string& name) {
  return axf::test::shared_data_dir() / "alignments" / name;
}

std::string query_of(const std::string& target) { return read_fasta(alignments(target + "/query.fasta"))[0].sequence; }

long total_deletions(const Msa& msa) {
  long total = 0;
  for (const auto& row : msa.deletion_matrix) total += std::accumulate(row.begin(), row.end(), 0L);
  return total;
}

// Every row has the query's length, and so does every deletion row.
void expect_rectangular(const Msa& msa, size_t width) {
  ASSERT_EQ(msa.deletion_matrix.size(), msa.size());
  ASSERT_EQ(msa.descriptions.size(), msa.size());
  for (size_t i = 0; i < msa.size(); ++i) {
    ASSERT_EQ(msa.sequences[i].size(), width) << "row " << i;
    ASSERT_EQ(msa.deletion_matrix[i].size(), width) << "row " << i;
  }
}

// Deletions of one row as (column, count) pairs where the count is not zero.
std::vector<std::pair<int, int>> nonzero_deletions(const Msa& msa, size_t row) {
  std::vector<std::pair<int, int>> out;
  for (size_t j = 0; j < msa.deletion_matrix[row].size(); ++j) {
    if (msa.deletion_matrix[row][j] != 0) out.emplace_back(static_cast<int>(j), msa.deletion_matrix[row][j]);
  }
  return out;
}

using Pairs = std::vector<std::pair<int, int>>;

TEST(A3m, Query73Bfd) {
  const Msa msa = read_a3m(alignments("query73/bfd_uniclust_hits.a3m"));
  ASSERT_EQ(msa.size(), 1024u);
  expect_rectangular(msa, 73);
  EXPECT_EQ(msa.sequences[0], query_of("query73"));
  EXPECT_EQ(msa.descriptions[0], "query");
  EXPECT_EQ(msa.descriptions[1].substr(0, 28), "tr|A0A2A6NXF8|A0A2A6NXF8_9BR");
  EXPECT_EQ(total_deletions(msa), 239);

  // File line 224: "LMSKKAVEHh-HKAAEH..." - one insertion 'h' before query column 9.
  EXPECT_EQ(msa.descriptions[111], "ERR1035441_3275339");  // header line ends with a space; stripped as AlphaFold does
  EXPECT_EQ(nonzero_deletions(msa, 111), (Pairs{{9, 1}}));
  EXPECT_EQ(msa.sequences[111].substr(0, 12), "LMSKKAVEH-HK");
  // Line 374: "VSKHE" then 22 lower-case letters, then "AAEHH...".
  EXPECT_EQ(msa.descriptions[186], "ERR1700683_1984599");
  EXPECT_EQ(nonzero_deletions(msa, 186), (Pairs{{5, 22}}));
  // Line 824: "--NITSMRLSIIAKPPPTWRMAItRRPRILRIlpmLTTDT-..." - 1 insertion before column 23, 3 before column 31.
  EXPECT_EQ(nonzero_deletions(msa, 411), (Pairs{{23, 1}, {31, 3}}));
  EXPECT_EQ(msa.sequences[411], "--NITSMRLSIIAKPPPTWRMAIRRPRILRILTTDT-PNITPAKLQKPISSFI---TST-----PPLPNK---");
}

TEST(A3m, Chain2q2kABfd) {
  const Msa msa = read_a3m(alignments("2q2k_A/bfd_uniclust_hits.a3m"));
  ASSERT_EQ(msa.size(), 4u);
  expect_rectangular(msa, 70);
  EXPECT_EQ(msa.sequences[0], query_of("2q2k_A"));
  // Last row ends "...GDTpP": one insertion before the last column.
  EXPECT_EQ(nonzero_deletions(msa, 3), (Pairs{{69, 1}}));
  EXPECT_EQ(msa.sequences[3].substr(60), "RYINDLGDTP");
  EXPECT_EQ(total_deletions(msa), 1);
}

TEST(A3m, InsertionsAcrossLinesDotsAndComments) {
  const std::string text =
      "#A3M#\n"
      ">q query\nAC\nDE\n"
      ">s1 desc\naaAC\ndd-Eee\n"  // trailing insertions after the last column are dropped, as in AlphaFold
      ">s2\nA.C.-.E\n";
  const Msa msa = parse_a3m(text, "t.a3m");
  ASSERT_EQ(msa.size(), 3u);
  EXPECT_EQ(msa.sequences[0], "ACDE");
  EXPECT_EQ(msa.descriptions[0], "q query");
  EXPECT_EQ(msa.sequences[1], "AC-E");
  EXPECT_EQ(msa.deletion_matrix[1], (std::vector<int32_t>{2, 0, 2, 0}));
  EXPECT_EQ(msa.sequences[2], "AC-E");
  EXPECT_EQ(msa.deletion_matrix[2], (std::vector<int32_t>{0, 0, 0, 0}));

  const Msa first_two = msa.truncated(2);
  ASSERT_EQ(first_two.size(), 2u);
  EXPECT_EQ(first_two.descriptions[1], "s1 desc");
  EXPECT_EQ(first_two.deletion_matrix.size(), 2u);
  EXPECT_EQ(msa.truncated(100).size(), 3u);
}

TEST(A3m, MalformedInputs) {
  expect_axf_error([] { parse_a3m("", "e.a3m"); }, {"e.a3m", "no A3M records"});
  expect_axf_error([] { parse_a3m("ACDE\n>q\nACDE\n", "t.a3m"); }, {"t.a3m:1:", "'>'"});
  expect_axf_error([] { parse_a3m(">q\nACDE\n>s\nAC1E\n", "t.a3m"); }, {"t.a3m:4:", "column 3", "'1'"});
  expect_axf_error([] { parse_a3m(">q\nACDE\n>s\nACaD\n", "t.a3m"); },
                   {"t.a3m:3:", "3 aligned columns", "expected the query's 4"});
  expect_axf_error([] { parse_a3m(">q\nACDE\n>s\n", "t.a3m"); }, {"t.a3m:3:", "0 aligned columns"});
  expect_axf_error([] { parse_a3m(">q\n>s\nACDE\n", "t.a3m"); }, {"t.a3m:1:", "no aligned columns"});
}

TEST(Stockholm, Query73Uniref90) {
  const Msa msa = read_stockholm(alignments("query73/uniref90_hits.sto"));
  ASSERT_EQ(msa.size(), 57u);
  expect_rectangular(msa, 73);
  EXPECT_EQ(msa.descriptions[0], "query");
  EXPECT_EQ(msa.sequences[0], query_of("query73"));
  EXPECT_EQ(msa.descriptions[1], "UniRef90_D7BIZ4/1-73");
  EXPECT_EQ(total_deletions(msa), 3);
  // Line 79: the query has gaps at alignment columns 34, 63 and 67; this row has 'K' at 63, which is a
  // deletion before query column 62 (63 minus one earlier query gap).
  EXPECT_EQ(msa.descriptions[9], "UniRef90_A0A402A866/4-68");
  EXPECT_EQ(nonzero_deletions(msa, 9), (Pairs{{62, 1}}));
  EXPECT_EQ(msa.sequences[9], "--GHPSIEHHRKAAEHHRKAAEHHEKAAEHHAKGEHETAASHAHMAHGHHIQATEHLEEAAKHTAQ-------");
}

TEST(Stockholm, Query73Mgnify) {
  const Msa msa = read_stockholm(alignments("query73/mgnify_hits.sto"));
  ASSERT_EQ(msa.size(), 59u);
  expect_rectangular(msa, 73);
  EXPECT_EQ(msa.sequences[0], query_of("query73"));
  EXPECT_EQ(total_deletions(msa), 3);
  EXPECT_EQ(msa.descriptions[8], "MGYP000680660046/4-73");
  EXPECT_EQ(nonzero_deletions(msa, 8), (Pairs{{64, 1}}));
}

TEST(Stockholm, Chain2q2kA) {
  const std::string query = query_of("2q2k_A");
  const Msa uniref = read_stockholm(alignments("2q2k_A/uniref90_hits.sto"));
  ASSERT_EQ(uniref.size(), 16u);
  expect_rectangular(uniref, 70);
  EXPECT_EQ(uniref.sequences[0], query);
  // Line 33: residues 'R' and 'Q' sit in query-gap columns 16 and 25 (query columns 16 and 24).
  EXPECT_EQ(uniref.descriptions[14], "UniRef90_UPI000B802FE5/1-42");
  EXPECT_EQ(nonzero_deletions(uniref, 14), (Pairs{{16, 1}, {24, 1}}));
  EXPECT_EQ(total_deletions(uniref), 4);

  const Msa mgnify = read_stockholm(alignments("2q2k_A/mgnify_hits.sto"));
  ASSERT_EQ(mgnify.size(), 7u);
  expect_rectangular(mgnify, 70);
  EXPECT_EQ(mgnify.sequences[0], query);
  EXPECT_EQ(mgnify.descriptions[6], "MGYP000859660985/83-111");
  EXPECT_EQ(total_deletions(mgnify), 0);

  const Msa uniprot = read_stockholm(alignments("2q2k_A/uniprot_hits.sto"));
  ASSERT_EQ(uniprot.size(), 21u);
  expect_rectangular(uniprot, 70);
  EXPECT_EQ(uniprot.sequences[0], query);
}

// jackhmmer writes long alignments in blocks; rows of one name are joined across blocks.
constexpr const char* kMultiBlock =
    "# STOCKHOLM 1.0\n"
    "#=GS s1/1-5 DE [subseq from] something\n"
    "\n"
    "query   AC-\n"
    "s1/1-5  a.c\n"
    "s2      A--\n"
    "#=GC RF xx.\n"
    "\n"
    "query   DE\n"
    "s1/1-5  DE\n"
    "s2      D-\n"
    "//\n";

TEST(Stockholm, MultiBlockQueryGapColumnsRemoved) {
  const Msa msa = parse_stockholm(kMultiBlock, "multi.sto");
  ASSERT_EQ(msa.size(), 3u);
  expect_rectangular(msa, 4);
  EXPECT_EQ(msa.descriptions, (std::vector<std::string>{"query", "s1/1-5", "s2"}));
  EXPECT_EQ(msa.sequences[0], "ACDE");
  EXPECT_EQ(msa.sequences[1], "a-DE");  // '.' read as a gap; letters kept as written
  EXPECT_EQ(msa.deletion_matrix[1], (std::vector<int32_t>{0, 0, 1, 0}));
  EXPECT_EQ(msa.sequences[2], "A-D-");
  EXPECT_EQ(msa.deletion_matrix[2], (std::vector<int32_t>{0, 0, 0, 0}));
}

TEST(Stockholm, MalformedInputs) {
  expect_axf_error([] { parse_stockholm("# STOCKHOLM 1.0\n//\n", "e.sto"); }, {"e.sto", "no aligned sequences"});
  expect_axf_error([] { parse_stockholm("# STOCKHOLM 1.0\nquery ACDE\ns1 AC DE\n", "t.sto"); },
                   {"t.sto:3:", "expected '<name> <aligned sequence>'", "3 fields"});
  expect_axf_error([] { parse_stockholm("query ACDE\ns1 AC*E\n", "t.sto"); }, {"t.sto:2:", "column 6", "'*'"});
  // s2 is missing from the second block.
  std::string text = kMultiBlock;
  text.replace(text.find("s2      D-\n"), 11, "");
  expect_axf_error([&] { parse_stockholm(text, "short.sto"); },
                   {"short.sto:6:", "'s2'", "3 alignment columns", "the query 'query' has 5"});
  expect_axf_error([] { parse_stockholm("query ---\ns1 ACD\n", "t.sto"); }, {"t.sto:1:", "no residues"});
}

}  // namespace
}  // namespace axf::io
