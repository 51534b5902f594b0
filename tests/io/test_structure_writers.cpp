// PDB / mmCIF writers and confidence JSON: AlphaFold's exact PDB layout on a golden example; PDB and mmCIF read back
// by gemmi (tests/io/gemmi_roundtrip.py) with identical atoms, residues, coordinates (0.001 A) and B-factors; the
// atomic write's failure modes; AFDB-layout JSON with AlphaFold's rounding.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>

#include "core/random.h"
#include "io/confidence_json.h"
#include "io/structure_writers.h"
#include "io_test_helpers.h"
#include "support/gemmi_reader.h"
#include "model/residue_constants.h"

namespace axf::test {
namespace {

using io::StructureRecord;

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), f, v);
  return buf;
}

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> dir_entries(const std::filesystem::path& dir) {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

// ---- records ----

void set_atom(StructureRecord& r, int64_t i, std::string_view name, float x, float y, float z) {
  const int a = model::atom37_index(name);
  ASSERT_GE(a, 0) << name;
  r.atom_mask[i * 37 + a] = 1.f;
  float* p = &r.atom_positions[(i * 37 + a) * 3];
  p[0] = x;
  p[1] = y;
  p[2] = z;
}

StructureRecord empty_record(const std::vector<int32_t>& aatype, const std::vector<int32_t>& residue_index) {
  StructureRecord r;
  r.aatype = aatype;
  r.residue_index = residue_index;
  const size_t L = aatype.size();
  for (int32_t a : aatype) r.sequence.push_back(model::restypes_with_x[a]);
  r.atom_positions.assign(L * 37 * 3, 0.f);
  r.atom_mask.assign(L * 37, 0.f);
  r.b_factors.assign(L, 0.f);
  return r;
}

// Every heavy atom of each residue type (atom14 names), at random positions around a helix-like CA trace, with
// random pLDDT; a few coordinates at the edges of the PDB columns.
StructureRecord random_record(const std::vector<int32_t>& aatype, const std::vector<int32_t>& residue_index,
                              uint64_t seed) {
  StructureRecord r = empty_record(aatype, residue_index);
  core::Random rng(seed);
  for (size_t i = 0; i < aatype.size(); ++i) {
    const double t = 1.745 * static_cast<double>(i);
    const double ca[3] = {2.3 * std::cos(t), 2.3 * std::sin(t), 1.5 * static_cast<double>(i)};
    for (std::string_view name : model::restype_name_to_atom14_names[aatype[i]]) {
      if (name.empty()) continue;
      set_atom(r, static_cast<int64_t>(i), name, static_cast<float>(ca[0] + 4 * rng.normal()),
               static_cast<float>(ca[1] + 4 * rng.normal()), static_cast<float>(ca[2] + 4 * rng.normal()));
    }
    r.b_factors[i] = static_cast<float>(100 * rng.uniform());
  }
  set_atom(r, static_cast<int64_t>(aatype.size() - 1), "OXT", 1.f, 2.f, 3.f);
  set_atom(r, 0, "N", -999.123f, 9999.999f, -0.0004f);
  return r;
}

// The atoms a writer must emit, in file order: RESSEQ RESNAME ATOMNAME ELEMENT X Y Z B OCC.
std::vector<std::vector<std::string>> expected_atoms(const StructureRecord& r) {
  std::vector<std::vector<std::string>> out;
  for (int64_t i = 0; i < r.num_res(); ++i)
    for (int a = 0; a < 37; ++a) {
      if (r.atom_mask[i * 37 + a] < 0.5f) continue;
      const float* p = &r.atom_positions[(i * 37 + a) * 3];
      const std::string name(model::atom_types[a]);
      out.push_back({std::to_string(r.residue_index[i] + 1), std::string(model::restype_names[r.aatype[i]]), name,
                     name.substr(0, 1), fmt("%.3f", p[0]), fmt("%.3f", p[1]), fmt("%.3f", p[2]),
                     fmt("%.2f", r.b_factors[i]), "1.00"});
    }
  return out;
}

void expect_same_atoms(const ReadBack& rb, const StructureRecord& r, const std::string& what) {
  const auto want = expected_atoms(r);
  ASSERT_EQ(rb.atoms.size(), want.size()) << what;
  for (size_t k = 0; k < want.size(); ++k) EXPECT_EQ(rb.atoms[k], want[k]) << what << ", atom " << k + 1;
  EXPECT_TRUE(rb.has("models 1")) << what;
  EXPECT_TRUE(rb.has("chain A")) << what;
}

std::string entity_seq(const StructureRecord& r) {
  // AlphaFold's _entity_poly_seq: numbers min(1, first)..last, gaps filled with UNK.
  std::string s = "entity_seq";
  std::map<int, int> present;
  for (int64_t i = 0; i < r.num_res(); ++i) present[r.residue_index[i] + 1] = r.aatype[i];
  for (int n = std::min(1, present.begin()->first); n <= present.rbegin()->first; ++n) {
    s += ' ';
    s += model::restype_names[present.count(n) ? present[n] : 20];
  }
  return s;
}

void round_trip(const StructureRecord& r, const std::string& tag) {
  ScratchDir dir("writers-" + tag);
  const auto pdb = dir / (tag + ".pdb"), cif = dir / (tag + ".cif");
  io::write_text_atomically(pdb, io::to_pdb(r));
  io::write_text_atomically(cif, io::to_mmcif(r, tag));
  EXPECT_EQ(dir_entries(dir), (std::vector<std::string>{tag + ".cif", tag + ".pdb"}));

  expect_same_atoms(read_with_gemmi(pdb), r, tag + " PDB");
  const ReadBack c = read_with_gemmi(cif);
  expect_same_atoms(c, r, tag + " mmCIF");
  EXPECT_TRUE(c.has(entity_seq(r))) << tag;
  EXPECT_TRUE(c.has("plddt_local " + std::to_string(r.num_res()))) << tag;
  double sum = 0;
  int n = 0;
  for (const auto& a : expected_atoms(r)) sum += std::stod(a[7]), ++n;
  EXPECT_TRUE(c.has("plddt_global " + fmt("%.2f", sum / n))) << tag;
  if (!r.title.empty()) {
    EXPECT_TRUE(c.has("title " + r.title)) << tag;
  }
}

// ---- tests ----

TEST(StructureWriters, PdbMatchesAlphaFoldLayoutExactly) {
  StructureRecord r = empty_record({7, 0}, {0, 1});  // GLY, ALA
  set_atom(r, 0, "N", -1.5f, 2.25f, 30.125f);
  set_atom(r, 0, "CA", 0.f, 0.0004f, -0.0004f);
  set_atom(r, 0, "C", 1.2345f, -12.5f, 100.f);
  set_atom(r, 0, "O", 9999.999f, -999.999f, 5.5f);
  set_atom(r, 1, "N", 3.f, 4.f, 5.f);
  set_atom(r, 1, "CA", 3.5f, 4.5f, 5.5f);
  set_atom(r, 1, "C", 4.f, 5.f, 6.f);
  set_atom(r, 1, "CB", 2.f, 3.f, 4.f);
  set_atom(r, 1, "O", 4.5f, 5.5f, 6.5f);
  r.b_factors = {87.5f, 45.254f};
  // Produced by AlphaFold's protein.to_pdb f-strings (v2.3) for the same protein.
  const std::string want =
      "MODEL     1                                                                     \n"
      "ATOM      1  N   GLY A   1      -1.500   2.250  30.125  1.00 87.50           N  \n"
      "ATOM      2  CA  GLY A   1       0.000   0.000  -0.000  1.00 87.50           C  \n"
      "ATOM      3  C   GLY A   1       1.235 -12.500 100.000  1.00 87.50           C  \n"
      "ATOM      4  O   GLY A   1    9999.999-999.999   5.500  1.00 87.50           O  \n"
      "ATOM      5  N   ALA A   2       3.000   4.000   5.000  1.00 45.25           N  \n"
      "ATOM      6  CA  ALA A   2       3.500   4.500   5.500  1.00 45.25           C  \n"
      "ATOM      7  C   ALA A   2       4.000   5.000   6.000  1.00 45.25           C  \n"
      "ATOM      8  CB  ALA A   2       2.000   3.000   4.000  1.00 45.25           C  \n"
      "ATOM      9  O   ALA A   2       4.500   5.500   6.500  1.00 45.25           O  \n"
      "TER      10      ALA A   2                                                      \n"
      "ENDMDL                                                                          \n"
      "END                                                                             \n";
  EXPECT_EQ(io::to_pdb(r), want);

  r.title = "AxialFold model";
  r.remarks = {"seed 7"};
  const std::string with_header = io::to_pdb(r);
  EXPECT_EQ(with_header.substr(0, 162), std::string("TITLE     AxialFold model") + std::string(55, ' ') + "\n" +
                                            "REMARK  99 seed 7" + std::string(63, ' ') + "\n");
  EXPECT_EQ(with_header.substr(162), want);
}

TEST(StructureWriters, ThreeResidueTypesRoundTripThroughGemmi) {
  // GLY, ALA, SER with a numbering gap (residues 1-3, 6-8).
  StructureRecord r = random_record({7, 0, 15, 15, 7, 0}, {0, 1, 2, 5, 6, 7}, 21);
  r.title = "random 'GAS' structure";
  round_trip(r, "gas");
}

TEST(StructureWriters, RealSequenceRoundTripsThroughGemmi) {
  // The query73 protein of ../shared/data with every heavy atom of each residue, plus UNK and all 20 amino acids.
  std::ifstream fasta(shared_data_dir() / "alignments" / "query73" / "query.fasta");
  ASSERT_TRUE(fasta) << "missing " << shared_data_dir() / "alignments/query73/query.fasta";
  std::string line, seq;
  while (std::getline(fasta, line))
    if (!line.empty() && line[0] != '>') seq += line;
  ASSERT_EQ(seq.size(), 73u);
  std::vector<int32_t> aatype, residue_index;
  for (char c : seq) aatype.push_back(model::restype_index(c));
  for (int32_t a = 0; a <= 20; ++a) aatype.push_back(a);
  for (size_t i = 0; i < aatype.size(); ++i) residue_index.push_back(static_cast<int32_t>(i));
  StructureRecord r = random_record(aatype, residue_index, 73);
  r.remarks = {"AxialFold test structure", "model_1_ptm"};
  round_trip(r, "query73");
}

TEST(StructureWriters, RejectsInconsistentRecords) {
  StructureRecord r = random_record({0, 1}, {0, 1}, 1);
  r.b_factors.pop_back();
  expect_axf_error([&] { io::to_pdb(r); }, {"b_factors"});
  r = random_record({0, 1}, {0, 1}, 1);
  r.sequence[1] = 'G';
  expect_axf_error([&] { io::to_mmcif(r, "x"); }, {"sequence", "aatype"});
  r = random_record({0, 1}, {3, 3}, 1);
  expect_axf_error([&] { io::to_mmcif(r, "x"); }, {"residue_index"});
}

TEST(AtomicWrite, ReplacesAndLeavesNoTemporary) {
  ScratchDir dir("atomic");
  io::write_text_atomically(dir / "a.txt", "old contents\n");
  io::write_text_atomically(dir / "a.txt", "new\n");
  EXPECT_EQ(read_file(dir / "a.txt"), "new\n");
  EXPECT_EQ(dir_entries(dir), (std::vector<std::string>{"a.txt"}));
}

TEST(AtomicWrite, FailuresThrowNamingThePathAndLeaveNothing) {
  ScratchDir dir("atomic-fail");
  // A directory that does not exist.
  const auto missing = dir / "no_such_dir" / "model.pdb";
  expect_axf_error([&] { io::write_text_atomically(missing, "x"); }, {missing.string()});
  EXPECT_FALSE(std::filesystem::exists(dir / "no_such_dir"));
  // A target that cannot be replaced (a directory): the temporary file must be cleaned up.
  std::filesystem::create_directory(dir / "taken.cif");
  expect_axf_error([&] { io::write_text_atomically(dir / "taken.cif", "x"); }, {(dir / "taken.cif").string()});
  EXPECT_EQ(dir_entries(dir), (std::vector<std::string>{"taken.cif"}));
  EXPECT_TRUE(std::filesystem::is_empty(dir / "taken.cif"));
  // A directory without write permission (root ignores permissions, so only checked for other users).
  if (::geteuid() != 0) {
    const auto ro = dir / "read_only";
    std::filesystem::create_directory(ro);
    ::chmod(ro.c_str(), 0555);
    expect_axf_error([&] { io::write_text_atomically(ro / "x.json", "x"); }, {(ro / "x.json").string()});
    EXPECT_TRUE(std::filesystem::is_empty(ro));
    ::chmod(ro.c_str(), 0755);
  }
}

TEST(ConfidenceJson, PlddtInAlphaFoldDatabaseLayout) {
  // Scores as Python's round(float(np.float32(s)), 2) in json.dumps; categories D < 50 <= L < 70 <= M < 90 <= H.
  const std::vector<float> plddt = {87.5f, 90.f, 49.994999f, 70.125f, 0.005f, 100.f, 12.345f};
  EXPECT_EQ(io::plddt_json(plddt),
            "{\"residueNumber\":[1,2,3,4,5,6,7],\"confidenceScore\":[87.5,90.0,49.99,70.12,0.0,100.0,12.35],"
            "\"confidenceCategory\":[\"M\",\"H\",\"D\",\"M\",\"D\",\"H\",\"D\"]}");
  expect_axf_error([] { io::plddt_json({100.5f}); }, {"pLDDT", "100.5"});
}

TEST(ConfidenceJson, PaeAndSummary) {
  // numpy.round(pae.astype(float64), 1) as AlphaFold's pae_json: float32 1.45 -> 1.5, 0.05 -> 0.1, 14.95 -> 14.9.
  const std::string pae = io::pae_json({1.45f, 0.05f, 14.95f, 31.75f}, 2, 31.75f);
  EXPECT_EQ(pae, "[{\"predicted_aligned_error\":[[1.5,0.1],[14.9,31.8]],\"max_predicted_aligned_error\":31.75}]");
  expect_axf_error([] { io::pae_json({1.f, 2.f, 3.f}, 2, 31.75f); }, {"square"});
  EXPECT_EQ(io::summary_json({0.8234567f, 87.456f}), "{\"ptm\":0.8234567,\"mean_plddt\":87.46}");
  EXPECT_EQ(io::summary_json({std::nullopt, 90.f}), "{\"mean_plddt\":90.0}");

  ScratchDir dir("json");
  io::write_pae_json(dir / "pae.json", {1.45f, 0.05f, 14.95f, 31.75f}, 2, 31.75f);
  io::write_plddt_json(dir / "plddt.json", {87.5f});
  io::write_summary_json(dir / "summary.json", {0.5f, 87.5f});
  EXPECT_EQ(read_file(dir / "pae.json"), pae);
  EXPECT_EQ(read_file(dir / "plddt.json"),
            "{\"residueNumber\":[1],\"confidenceScore\":[87.5],\"confidenceCategory\":[\"M\"]}");
  EXPECT_EQ(read_file(dir / "summary.json"), "{\"ptm\":0.5,\"mean_plddt\":87.5}");
  EXPECT_EQ(dir_entries(dir), (std::vector<std::string>{"pae.json", "plddt.json", "summary.json"}));
}

}  // namespace
}  // namespace axf::test
