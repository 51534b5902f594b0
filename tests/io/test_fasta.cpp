// FASTA queries: the real query files in shared/data, several records in one text, and every refusal
// (each naming the source and the line).
#include <gtest/gtest.h>

#include <string>

#include "io/fasta.h"
#include "io_test_helpers.h"
#include "support/test_support.h"

namespace axf::io {
namespace {

using axf::test::expect_axf_error;

std::filesystem::path alignments(const std::string& name) {
  return axf::test::shared_data_dir() / "alignments" / name;
}

TEST(Fasta, Query73) {
  const auto records = read_fasta(alignments("query73/query.fasta"));
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].name, "query");
  EXPECT_EQ(records[0].description, "query");
  EXPECT_EQ(records[0].sequence.size(), 73u);
  EXPECT_EQ(records[0].sequence, "MAAHKGAEHHHKAAEHHEQAAKHHHAAAEHHEKGEHEQAAHHADTAYAHHKHAEEHAAQAAKHDAEHHAPKPH");
}

TEST(Fasta, Chain2q2kA) {
  const auto records = read_fasta(alignments("2q2k_A/query.fasta"));
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].name, "2q2k_A");
  EXPECT_EQ(records[0].sequence.size(), 70u);
  EXPECT_EQ(records[0].sequence.substr(0, 20), "MGSSHHHHHHSSGLVPGSHM");
}

TEST(Fasta, SeveralRecordsBlankLinesAndCrlf) {
  const std::string text =
      "\n>t1 first protein  [demo]\nMKV\n  LLA  \n\n>t2\r\nXBZUOJ\r\n>t3 third\nACDEFGHIKLMNPQRSTVWY";
  const auto records = parse_fasta(text, "multi.fa");
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[0].name, "t1");
  EXPECT_EQ(records[0].description, "t1 first protein  [demo]");
  EXPECT_EQ(records[0].sequence, "MKVLLA");
  EXPECT_EQ(records[1].name, "t2");
  EXPECT_EQ(records[1].sequence, "XBZUOJ");  // kept as written; the feature code maps them as AlphaFold does
  EXPECT_EQ(records[2].description, "t3 third");
  EXPECT_EQ(records[2].sequence.size(), 20u);
}

TEST(Fasta, RefusesEmptyInput) {
  expect_axf_error([] { parse_fasta("", "empty.fa"); }, {"empty.fa", "no FASTA records"});
  expect_axf_error([] { parse_fasta("\n  \n\n", "blank.fa"); }, {"blank.fa", "no FASTA records"});
}

TEST(Fasta, RefusesTextBeforeFirstHeader) {
  expect_axf_error([] { parse_fasta("\nMKV\n>a\nMKV\n", "nohead.fa"); }, {"nohead.fa:2:", "'>'"});
}

TEST(Fasta, RefusesEmptySequence) {
  expect_axf_error([] { parse_fasta(">a\n>b\nMK\n", "e.fa"); }, {"e.fa:1:", "'a'", "empty sequence"});
  expect_axf_error([] { parse_fasta(">a\nMK\n\n>b\n\n", "e.fa"); }, {"e.fa:4:", "'b'", "empty sequence"});
}

TEST(Fasta, RefusesHeaderWithoutName) {
  expect_axf_error([] { parse_fasta(">a\nMK\n>  \nMK\n", "n.fa"); }, {"n.fa:3:", "name after '>'"});
}

TEST(Fasta, RefusesBadCharactersNamingLineAndColumn) {
  expect_axf_error([] { parse_fasta(">a\nMKV\nMK1V\n", "bad.fa"); }, {"bad.fa:3:", "column 3", "'1'", "A-Z"});
  expect_axf_error([] { parse_fasta(">a\nMKvL\n", "bad.fa"); }, {"bad.fa:2:", "column 3", "'v'", "upper case"});
  expect_axf_error([] { parse_fasta(">a\nMKVL*\n", "bad.fa"); }, {"bad.fa:2:", "column 5", "'*'"});
  expect_axf_error([] { parse_fasta(">a\nMK VL\n", "bad.fa"); }, {"bad.fa:2:", "column 3", "whitespace"});
  expect_axf_error([] { parse_fasta(">a\nMK-VL\n", "bad.fa"); }, {"bad.fa:2:", "'-'"});
}

TEST(Fasta, RefusesDuplicateNames) {
  expect_axf_error([] { parse_fasta(">a one\nMK\n>b\nMK\n>a two\nKM\n", "dup.fa"); },
                   {"dup.fa:5:", "duplicate", "'a'", "line 1"});
}

TEST(Fasta, MissingFileNamesPath) {
  expect_axf_error([] { read_fasta("/nonexistent/dir/q.fasta"); }, {"/nonexistent/dir/q.fasta", "cannot open"});
}

TEST(TextLines, SplitLikePythonSplitlines) {
  const auto lines = split_lines("a\r\nb\rc\n\nd");
  ASSERT_EQ(lines.size(), 5u);
  EXPECT_EQ(lines[0], "a");
  EXPECT_EQ(lines[1], "b");
  EXPECT_EQ(lines[2], "c");
  EXPECT_EQ(lines[3], "");
  EXPECT_EQ(lines[4], "d");
  EXPECT_EQ(split_lines("x\n").size(), 1u);
  EXPECT_TRUE(split_lines("").empty());
  EXPECT_EQ(strip(" \t ab c\r\n"), "ab c");
  EXPECT_EQ(split_whitespace("  a\tbb  c ").size(), 3u);
}

}  // namespace
}  // namespace axf::io
