// Template features: query73's real PDB70 hits against the shared mmCIF files (hit order, release-date filter,
// max hits, coordinates equal to the mmCIF atoms), kalign realignment when the hit's sequence differs from the
// SEQRES, and a synthetic HHR for 2q2k chain A through the whole raw-feature pipeline.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "io/fasta.h"
#include "io/hhr.h"
#include "io/io_test_helpers.h"
#include "io/mmcif.h"
#include "model/residue_constants.h"
#include "pipeline/kalign.h"
#include "pipeline/raw_features.h"
#include "pipeline/template_features.h"
#include "support/test_support.h"

namespace axf::pipeline {
namespace {

namespace fs = std::filesystem;
using axf::test::expect_axf_error;
using axf::test::ScratchDir;

fs::path data() { return axf::test::shared_data_dir(); }
fs::path mmcif_dir() { return data() / "mmcif"; }

std::string query73() { return io::read_fasta(data() / "alignments" / "query73" / "query.fasta").at(0).sequence; }
std::string query2q2k() { return io::read_fasta(data() / "alignments" / "2q2k_A" / "query.fasta").at(0).sequence; }
std::vector<io::TemplateHit> query73_hits() {
  return io::read_hhr(data() / "alignments" / "query73" / "pdb70_hits.hhr");
}

TemplateSearchOptions options(const std::string& max_date = "9999-12-31") {
  TemplateSearchOptions o;
  o.mmcif_dir = mmcif_dir();
  o.max_template_date = max_date;
  return o;
}

// Model-1 atoms of one author chain straight from the _atom_site loop (a test oracle independent of io::mmcif):
// (label_seq_id - 1, atom name) -> xyz, first occurrence.
std::map<std::pair<int, std::string>, std::array<float, 3>> atom_site(const fs::path& cif, const std::string& chain) {
  std::ifstream in(cif);
  std::string line;
  std::vector<std::string> columns;
  std::map<std::pair<int, std::string>, std::array<float, 3>> out;
  auto col = [&](const std::string& name) {
    for (size_t i = 0; i < columns.size(); ++i)
      if (columns[i] == name) return i;
    ADD_FAILURE() << "no _atom_site." << name;
    return size_t{0};
  };
  while (std::getline(in, line)) {
    if (line.rfind("_atom_site.", 0) == 0) {
      std::istringstream s(line.substr(11));
      std::string name;
      s >> name;
      columns.push_back(name);
      continue;
    }
    if (line.rfind("ATOM", 0) != 0 && line.rfind("HETATM", 0) != 0) continue;
    std::istringstream s(line);
    std::vector<std::string> f;
    for (std::string w; s >> w;) f.push_back(w);
    if (f.size() != columns.size() || f[col("auth_asym_id")] != chain || f[col("pdbx_PDB_model_num")] != "1" ||
        f[col("label_seq_id")] == ".")
      continue;
    const int seq = std::stoi(f[col("label_seq_id")]) - 1;
    out.emplace(std::make_pair(seq, f[col("label_atom_id")]),
                std::array<float, 3>{std::stof(f[col("Cartn_x")]), std::stof(f[col("Cartn_y")]),
                                     std::stof(f[col("Cartn_z")])});
  }
  return out;
}

// Checks template t's rows against the chain's atoms: query residue q shows SEQRES residue q - shift where
// expected, and nothing elsewhere.
void expect_template_rows(const TemplateFeatures& tf, int64_t t, const std::string& pdb, const std::string& chain,
                          const std::map<int, int>& query_to_seqres) {
  const io::MmcifStructure s = io::read_mmcif(mmcif_dir() / (pdb + ".cif"));
  std::vector<float> pos, mask;
  io::chain_atom37(s, chain, pos, mask);
  const auto oracle = atom_site(mmcif_dir() / (pdb + ".cif"), chain);
  const int64_t L = tf.aatype.size(1);
  const float* tp = tf.all_atom_positions.data<float>() + t * L * 37 * 3;
  const float* tm = tf.all_atom_masks.data<float>() + t * L * 37;
  int checked_backbone = 0;
  for (int64_t q = 0; q < L; ++q) {
    auto it = query_to_seqres.find(static_cast<int>(q));
    for (int a = 0; a < 37; ++a) {
      if (it == query_to_seqres.end()) {
        ASSERT_EQ(tm[q * 37 + a], 0.f) << "query residue " << q;
        ASSERT_EQ(tp[(q * 37 + a) * 3], 0.f);
        continue;
      }
      const size_t r = static_cast<size_t>(it->second);
      ASSERT_EQ(tm[q * 37 + a], mask[r * 37 + a]) << "query " << q << " atom " << a;
      for (int k = 0; k < 3; ++k) ASSERT_EQ(tp[(q * 37 + a) * 3 + k], pos[(r * 37 + a) * 3 + k]);
      // Backbone atoms (never renamed) against the file itself.
      const std::string name(model::atom_types[a]);
      if (name == "N" || name == "CA" || name == "C" || name == "O") {
        auto o = oracle.find({it->second, name});
        ASSERT_EQ(tm[q * 37 + a] != 0.f, o != oracle.end()) << "query " << q << " " << name;
        if (o == oracle.end()) continue;
        for (int k = 0; k < 3; ++k) ASSERT_EQ(tp[(q * 37 + a) * 3 + k], o->second[k]);
        ++checked_backbone;
      }
    }
  }
  EXPECT_GT(checked_backbone, 0);
}

TEST(TemplateFeatures, HelpersFollowAlphaFold) {
  EXPECT_EQ(pdb_id_and_chain("1PSM_A SPAM-H1 (RESIDUES 90 - 127"), (std::pair<std::string, std::string>{"1psm", "A"}));
  EXPECT_EQ(pdb_id_and_chain("5KC1_AB"), (std::pair<std::string, std::string>{"5kc1", "AB"}));
  expect_axf_error([] { pdb_id_and_chain("not a pdb hit"); }, {"not a pdb hit", "PDBID_CHAIN"});
  EXPECT_TRUE(is_iso_date("2008-02-29"));
  EXPECT_FALSE(is_iso_date("2007-02-29"));
  EXPECT_FALSE(is_iso_date("2020-1-01"));
  // Query residues 2.. of "MKVLAAGIVG" aligned to hit residues 10.. with a gap on each side.
  io::TemplateHit hit{1, "1ABC_A", 5, 1.0, "VL-AAG", "VLSA-G", {2, 3, -1, 4, 5, 6}, {10, 11, 12, 13, -1, 14}};
  EXPECT_EQ(query_to_hit_mapping(hit, "MKVLAAGIVG"), (std::map<int, int>{{2, 0}, {3, 1}, {4, 3}, {6, 4}}));
  hit.query = "WWW";
  EXPECT_TRUE(query_to_hit_mapping(hit, "MKVLAAGIVG").empty());
}

TEST(TemplateFeatures, Query73HitsWithSharedMmcifFiles) {
  const std::string query = query73();
  const auto hits = query73_hits();
  const TemplateFeatures tf = make_template_features(query, hits, options());
  // Of the ten hits only 1psm, 3zee, 4i6p and 2q2k have mmCIF files; they come in sum_probs order (stable).
  ASSERT_EQ(tf.domain_names, (std::vector<std::string>{"1psm_A", "3zee_A", "4i6p_A", "2q2k_A"}));
  EXPECT_EQ(tf.aatype.shape(), (core::Shape{4, 73, 22}));
  EXPECT_EQ(tf.all_atom_positions.shape(), (core::Shape{4, 73, 37, 3}));
  EXPECT_EQ(tf.all_atom_masks.shape(), (core::Shape{4, 73, 37}));
  EXPECT_EQ(tf.sum_probs.shape(), (core::Shape{4, 1}));
  EXPECT_FLOAT_EQ(tf.sum_probs.data<float>()[0], 8.0f);
  // Hit 10: query 56-72 aligned to 2Q2K_A 54-70 (1-based), no gaps; its sequence is in the mmCIF SEQRES at the
  // same place, so query residue q (0-based) shows SEQRES residue q - 2.
  std::map<int, int> expected;
  for (int q = 55; q <= 71; ++q) expected[q] = q - 2;
  expect_template_rows(tf, 3, "2q2k", "A", expected);
  EXPECT_EQ(tf.sequences[3], std::string(55, '-') + "HIREALRRYIEEIGENP" + "-");
  const float* aatype = tf.aatype.data<float>() + 3 * 73 * 22;
  for (int q = 0; q < 73; ++q) {
    const int id = hhblits_aa_to_id(tf.sequences[3][q]);
    for (int c = 0; c < 22; ++c) ASSERT_EQ(aatype[q * 22 + c], c == id ? 1.f : 0.f);
  }

  // At most max_hits templates.
  TemplateSearchOptions two = options();
  two.max_hits = 2;
  EXPECT_EQ(make_template_features(query, hits, two).domain_names, (std::vector<std::string>{"1psm_A", "3zee_A"}));
}

TEST(TemplateFeatures, ReleaseDateFilter) {
  const std::string query = query73();
  const auto hits = query73_hits();
  const std::string released = io::read_mmcif(mmcif_dir() / "2q2k.cif").release_date;
  ASSERT_TRUE(is_iso_date(released)) << released;
  auto names = [&](const std::string& date) { return make_template_features(query, hits, options(date)).domain_names; };
  auto has_2q2k = [](const std::vector<std::string>& v) { return std::find(v.begin(), v.end(), "2q2k_A") != v.end(); };
  EXPECT_TRUE(has_2q2k(names(released)));  // released on the cutoff day: kept
  // The day before (all days of the test data's releases are > 01).
  std::string before = released;
  ASSERT_NE(released.substr(8), "01");
  const int day = std::stoi(released.substr(8)) - 1;
  before.replace(8, 2, (day < 10 ? "0" : "") + std::to_string(day));
  EXPECT_FALSE(has_2q2k(names(before)));
  EXPECT_TRUE(names("1900-01-01").empty());
  const TemplateFeatures none = make_template_features(query, hits, options("1900-01-01"));
  EXPECT_EQ(none.aatype.shape(), (core::Shape{0, 73, 22}));
  EXPECT_EQ(none.sum_probs.shape(), (core::Shape{0, 1}));
  expect_axf_error([&] { make_template_features(query, hits, options("2020-02-30")); }, {"2020-02-30"});
  TemplateSearchOptions missing = options();
  missing.mmcif_dir = "/nonexistent/mmcif";
  expect_axf_error([&] { make_template_features(query, hits, missing); }, {"/nonexistent/mmcif"});
}

TEST(TemplateFeatures, KalignRealignsHitThatDiffersFromSeqres) {
  const std::string query = query2q2k();  // 2q2k chain A's SEQRES
  ASSERT_EQ(query.size(), 70u);
  // A PDB70 copy of residues 26-70 (1-based) with two substitutions: not in the SEQRES, so it is realigned.
  std::string hit_seq = query.substr(25);
  hit_seq[15] = hit_seq[15] == 'W' ? 'F' : 'W';  // residue 41
  hit_seq[30] = hit_seq[30] == 'W' ? 'F' : 'W';  // residue 56
  io::TemplateHit hit{1, "2Q2K_A Hypothetical protein", 45, 40.0, query.substr(25), hit_seq, {}, {}};
  for (int i = 0; i < 45; ++i) {
    hit.indices_query.push_back(25 + i);
    hit.indices_hit.push_back(25 + i);
  }
  const TemplateFeatures tf = make_template_features(query, {hit}, options());
  ASSERT_EQ(tf.count(), 1) << (tf.errors.empty() ? "" : tf.errors[0]) << (tf.warnings.empty() ? "" : tf.warnings[0]);
  EXPECT_EQ(tf.domain_names[0], "2q2k_A");
  // After realignment the template residues are the SEQRES ones, the substituted positions included.
  EXPECT_EQ(tf.sequences[0], std::string(25, '-') + query.substr(25));
  std::map<int, int> identity;
  for (int q = 25; q < 70; ++q) identity[q] = q;
  expect_template_rows(tf, 0, "2q2k", "A", identity);

  // Less than 90% identical: AlphaFold refuses the realignment and drops the hit.
  std::string far = query.substr(25);
  for (int i = 0; i < 45; i += 5) far[i] = far[i] == 'W' ? 'F' : 'W';
  hit.hit_sequence = far;
  const TemplateFeatures dropped = make_template_features(query, {hit}, options());
  EXPECT_EQ(dropped.count(), 0);
  ASSERT_EQ(dropped.errors.size(), 1u);
  EXPECT_NE(dropped.errors[0].find("90%"), std::string::npos) << dropped.errors[0];

  // A missing kalign is a setup error, not a dropped hit.
  hit.hit_sequence = hit_seq;
  TemplateSearchOptions no_kalign = options();
  no_kalign.kalign = "/nonexistent/kalign";
  EXPECT_THROW(make_template_features(query, {hit}, no_kalign), KalignUnavailable);
}

TEST(TemplateFeatures, KalignAlignsInInputOrder) {
  const auto rows = kalign_align({"MKVLAAGIVGLLLA", "MKVLAGIVGLWLLA"});
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].size(), rows[1].size());
  std::string a;
  for (char c : rows[0])
    if (c != '-') a += c;
  EXPECT_EQ(a, "MKVLAAGIVGLLLA");
  expect_axf_error([] { kalign_align({"MKV", "MKVLAG"}); }, {"shorter than 6"});
}

// HHR text in hhsearch's layout for one hit whose alignment has no gaps.
std::string synthetic_hhr(const std::string& hit_name, int query_start, const std::string& segment, int query_len,
                          int template_start, int template_len, double sum_probs) {
  char buf[512];
  std::string s = "Query         query\nMatch_columns " + std::to_string(query_len) +
                  "\nNo_of_seqs    1 out of 1\nNeff          1\nSearched_HMMs 1\n\n"
                  " No Hit                             Prob E-value P-value  Score    SS Cols Query HMM  Template HMM\n";
  std::snprintf(buf, sizeof(buf), "  1 %-27s  99.9 1.1E-30 1.2E-35  200.0   0.0 %4zu %4d-%-4d %4d-%-4d(%d)\n\n",
                hit_name.substr(0, 27).c_str(), segment.size(), query_start, query_start + int(segment.size()) - 1,
                template_start, template_start + int(segment.size()) - 1, template_len);
  s += buf;
  s += "No 1\n>" + hit_name + "\n";
  std::snprintf(buf, sizeof(buf),
                "Probab=99.90  E-value=1.1e-30  Score=200.00  Aligned_cols=%zu  Identities=100%%  Similarity=1.000  "
                "Sum_probs=%.1f  Template_Neff=1.000\n\n",
                segment.size(), sum_probs);
  s += buf;
  const int qe = query_start + int(segment.size()) - 1, te = template_start + int(segment.size()) - 1;
  std::snprintf(buf, sizeof(buf), "Q %-15s%4d %s %4d (%d)\n", "query", query_start, segment.c_str(), qe, query_len);
  s += buf;
  std::snprintf(buf, sizeof(buf), "Q %-15s%4d %s %4d (%d)\n", "Consensus", query_start, segment.c_str(), qe, query_len);
  s += buf;
  s += std::string(22, ' ') + std::string(segment.size(), '|') + "\n";
  std::snprintf(buf, sizeof(buf), "T %-15s%4d %s %4d (%d)\n", "Consensus", template_start, segment.c_str(), te,
                template_len);
  s += buf;
  const std::string tname = hit_name.substr(0, hit_name.find(' '));
  std::snprintf(buf, sizeof(buf), "T %-15s%4d %s %4d (%d)\n", tname.c_str(), template_start, segment.c_str(), te,
                template_len);
  s += buf;
  s += "\nDone!\n";
  return s;
}

TEST(TemplateFeatures, SyntheticHhrThroughRawFeatures) {
  const ScratchDir dir("feat-2q2k");
  const fs::path src = data() / "alignments" / "2q2k_A";
  for (const char* name : {"uniref90_hits.sto", "mgnify_hits.sto", "bfd_uniclust_hits.a3m"})
    fs::create_symlink(src / name, dir / name);
  const std::string query = query2q2k();
  // Query residues 21-70 aligned to 2Q2K_A residues 21-70: below the 95% length of a duplicate.
  const std::string hhr = synthetic_hhr("2Q2K_A Hypothetical protein/DNA Complex", 21, query.substr(20), 70, 21, 70, 49.5);
  {
    std::ofstream f(dir / "pdb70_hits.hhr");
    f << hhr;
  }
  const auto parsed = io::parse_hhr(hhr, "synthetic");
  ASSERT_EQ(parsed.size(), 1u);
  RawFeatureOptions o;
  o.mmcif_dir = mmcif_dir();
  RawFeatureExtras extras;
  const auto f = make_raw_features({"2q2k_A", "2q2k_A", query}, dir.path(), o, &extras);
  EXPECT_EQ(extras.strings.at("template_domain_names"), "2q2k_A");
  EXPECT_EQ(f.at("template_aatype").shape(), (core::Shape{1, 70, 22}));
  EXPECT_FLOAT_EQ(f.at("template_sum_probs").data<float>()[0], 49.5f);
  TemplateFeatures tf;
  tf.aatype = f.at("template_aatype");
  tf.all_atom_positions = f.at("template_all_atom_positions");
  tf.all_atom_masks = f.at("template_all_atom_masks");
  std::map<int, int> identity;
  for (int q = 20; q < 70; ++q) identity[q] = q;
  expect_template_rows(tf, 0, "2q2k", "A", identity);

  // The whole chain would be a duplicate of the query (AlphaFold's DuplicateError): no template.
  {
    std::ofstream f2(dir / "pdb70_hits.hhr");
    f2 << synthetic_hhr("2Q2K_A Hypothetical protein/DNA Complex", 1, query, 70, 1, 70, 70.0);
  }
  EXPECT_EQ(make_raw_features({"2q2k_A", "2q2k_A", query}, dir.path(), o).at("template_aatype").size(0), 0);
  // Released after the cutoff: no template.
  {
    std::ofstream f3(dir / "pdb70_hits.hhr");
    f3 << hhr;
  }
  o.max_template_date = "2000-01-01";
  EXPECT_EQ(make_raw_features({"2q2k_A", "2q2k_A", query}, dir.path(), o).at("template_aatype").size(0), 0);
}

}  // namespace
}  // namespace axf::pipeline
