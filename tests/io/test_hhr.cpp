// HHR template hits: AlphaFold's parse_hhr on the real hhsearch output in shared/data (values read off the
// text), a hand-made hit with gaps and two alignment blocks, and malformed sections.
#include <gtest/gtest.h>

#include <numeric>
#include <string>

#include "io/hhr.h"
#include "io_test_helpers.h"
#include "support/test_support.h"

namespace axf::io {
namespace {

using axf::test::expect_axf_error;

std::vector<int> range(int first, int count) {
  std::vector<int> v(static_cast<size_t>(count));
  std::iota(v.begin(), v.end(), first);
  return v;
}

TEST(Hhr, Query73Pdb70) {
  const auto hits = read_hhr(axf::test::shared_data_dir() / "alignments/query73/pdb70_hits.hhr");
  ASSERT_EQ(hits.size(), 10u);
  for (size_t i = 0; i < hits.size(); ++i) {
    EXPECT_EQ(hits[i].index, static_cast<int>(i) + 1);
    EXPECT_EQ(hits[i].query.size(), hits[i].hit_sequence.size());
    EXPECT_EQ(hits[i].indices_query.size(), hits[i].query.size());
    EXPECT_EQ(hits[i].indices_hit.size(), hits[i].hit_sequence.size());
  }

  // "No 1", ">1HF9_B ATPASE INHIBITOR ...", "Probab=7.51 ... Aligned_cols=22 ... Sum_probs=13.1 ...",
  // "Q query             7 AEHHHKAAEHHEQAAKHHHAAA   28 (73)", "T 1HF9_B           10 ISHHAKEIERLQKEIERHKQSI   31 (41)".
  const TemplateHit& first = hits[0];
  EXPECT_EQ(first.name,
            "1HF9_B ATPASE INHIBITOR (MITOCHONDRIAL); ATPASE INHIBITOR, F1 ATPASE INHIBITOR; NMR {BOS TAURUS} SCOP: "
            "h.4.8.1");
  EXPECT_EQ(first.aligned_cols, 22);
  EXPECT_DOUBLE_EQ(first.sum_probs, 13.1);
  EXPECT_EQ(first.query, "AEHHHKAAEHHEQAAKHHHAAA");
  EXPECT_EQ(first.hit_sequence, "ISHHAKEIERLQKEIERHKQSI");
  EXPECT_EQ(first.indices_query, range(6, 22));  // 0-based: query residues 7..28
  EXPECT_EQ(first.indices_hit, range(9, 22));    // template residues 10..31

  // "No 8": 3ZEE_A, Aligned_cols=15, Sum_probs=7.4, query 58-72, template 30-44.
  EXPECT_EQ(hits[7].name.substr(0, 6), "3ZEE_A");
  EXPECT_EQ(hits[7].aligned_cols, 15);
  EXPECT_DOUBLE_EQ(hits[7].sum_probs, 7.4);
  EXPECT_EQ(hits[7].indices_query, range(57, 15));
  EXPECT_EQ(hits[7].indices_hit, range(29, 15));
  EXPECT_EQ(hits[7].hit_sequence, "QQAVTRYRKAVAKDP");

  // "No 10": 2Q2K_A, Sum_probs=0.0, query 56-72, template 54-70.
  EXPECT_EQ(hits[9].name.substr(0, 30), "2Q2K_A Hypothetical protein/DN");
  EXPECT_EQ(hits[9].aligned_cols, 17);
  EXPECT_DOUBLE_EQ(hits[9].sum_probs, 0.0);
  EXPECT_EQ(hits[9].query, "HAAQAAKHDAEHHAPKP");
  EXPECT_EQ(hits[9].indices_query.front(), 55);
  EXPECT_EQ(hits[9].indices_hit.front(), 53);
  EXPECT_EQ(hits[9].indices_hit.back(), 69);
}

// Q/T lines keep hhsearch's layout: the numbers start after column 17.
constexpr const char* kTwoBlocks =
    "Query         query\n"
    "Match_columns 10\n"
    "\n"
    " No Hit                             Prob E-value P-value  Score    SS Cols Query HMM  Template HMM\n"
    "  1 1ABC_A Some protein           99.5   1E-20   1E-24  100.0   0.0    6    2-7       4-9   (20)\n"
    "\n"
    "No 1\n"
    ">1ABC_A Some protein; X-RAY {Homo sapiens}\n"
    "Probab=99.5  E-value=1e-20  Score=100.0  Aligned_cols=6  Identities=50%  Similarity=0.5  Sum_probs=5.5  "
    "Template_Neff=3.0\n"
    "\n"
    "Q query             2 AC-DE    5 (10)\n"
    "Q Consensus         2 ac-de    5 (10)\n"
    "                      || |.\n"
    "T Consensus         4 AcYd-    7 (20)\n"
    "T 1ABC_A            4 ACYD-    7 (20)\n"
    "T ss_pred             HHHHH\n"
    "Confidence            12345\n"
    "\n"
    "Q query             6 FG    7 (10)\n"
    "T 1ABC_A            8 FG    9 (20)\n"
    "\n"
    "No 2\n"
    ">2XYZ_B Other\n"
    "Probab=50.0  E-value=2.5  Score=10.5  Aligned_cols=2  Identities=100%  Similarity=1.0  Sum_probs=1.5\n"
    "\n"
    "Q query             1 MA    2 (10)\n"
    "T 2XYZ_B            1 MA    2 (5)\n"
    "Done!\n";

TEST(Hhr, GapsAndSeveralBlocks) {
  const auto hits = parse_hhr(kTwoBlocks, "two.hhr");
  ASSERT_EQ(hits.size(), 2u);
  const TemplateHit& h = hits[0];
  EXPECT_EQ(h.index, 1);
  EXPECT_EQ(h.name, "1ABC_A Some protein; X-RAY {Homo sapiens}");
  EXPECT_EQ(h.aligned_cols, 6);
  EXPECT_DOUBLE_EQ(h.sum_probs, 5.5);
  EXPECT_EQ(h.query, "AC-DEFG");
  EXPECT_EQ(h.hit_sequence, "ACYD-FG");
  EXPECT_EQ(h.indices_query, (std::vector<int>{1, 2, -1, 3, 4, 5, 6}));
  EXPECT_EQ(h.indices_hit, (std::vector<int>{3, 4, 5, 6, -1, 7, 8}));
  // Older hhsuite summaries without Template_Neff are accepted.
  EXPECT_EQ(hits[1].index, 2);
  EXPECT_DOUBLE_EQ(hits[1].sum_probs, 1.5);
  EXPECT_EQ(hits[1].indices_query, (std::vector<int>{0, 1}));
}

TEST(Hhr, NoHitsIsEmpty) {
  EXPECT_TRUE(parse_hhr("Query         query\nMatch_columns 10\n\n No Hit   Prob\n\nDone!\n", "none.hhr").empty());
}

// kTwoBlocks with its first occurrence of `from` replaced by `to`.
std::string edited(const std::string& from, const std::string& to) {
  std::string text = kTwoBlocks;
  const size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  text.replace(at, from.size(), to);
  return text;
}

TEST(Hhr, MalformedSections) {
  expect_axf_error([] { parse_hhr(edited("No 1\n", "No one\n"), "bad.hhr"); }, {"bad.hhr:7:", "No <hit number>"});
  expect_axf_error([] { parse_hhr(edited(">1ABC_A", "1ABC_A"), "bad.hhr"); }, {"bad.hhr:8:", "'>'"});
  expect_axf_error([] { parse_hhr(edited("Sum_probs=5.5", "Sum_prob=5.5"), "bad.hhr"); },
                   {"bad.hhr:9:", "Sum_probs="});
  expect_axf_error([] { parse_hhr(edited("Aligned_cols=6", "Aligned_cols=six"), "bad.hhr"); },
                   {"bad.hhr:9:", "number after 'Aligned_cols='", "'six'"});
  expect_axf_error([] { parse_hhr(edited("Probab=99.5", "Prob=99.5"), "bad.hhr"); }, {"bad.hhr:9:", "summary"});
  // Positions 2..6 with one gap need 6 characters, not 5.
  expect_axf_error([] { parse_hhr(edited("AC-DE    5 (10)", "AC-DE    6 (10)"), "bad.hhr"); },
                   {"bad.hhr:11:", "expected 6 aligned characters, found 5"});
  expect_axf_error([] { parse_hhr(edited("T 1ABC_A            8 FG ", "T 1ABC_A            8 FGH "), "bad.hhr"); },
                   {"bad.hhr:20:", "template block", "3 aligned characters", "expected 2"});
  expect_axf_error([] { parse_hhr(edited("Q query             6 FG    7 (10)", "Q query             6 FG    7"), "bad.hhr"); },
                   {"bad.hhr:19:", "query line"});
  expect_axf_error([] { parse_hhr("No 1\n>x\n", "short.hhr"); }, {"short.hhr:1:", "ends before"});
}

}  // namespace
}  // namespace axf::io
