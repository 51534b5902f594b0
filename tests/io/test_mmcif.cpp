// mmCIF through gemmi, read as AlphaFold's mmcif_parsing and templates._get_atom_positions: the four PDB
// entries in shared/data (expected values were read with gemmi 0.5.7's Python module), a hand-made entry
// with MSE, alternative locations, a swapped arginine and a DNA chain, and malformed files.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <numeric>
#include <stdexcept>
#include <string>

#include "io/mmcif.h"
#include "io_test_helpers.h"
#include "support/test_support.h"

namespace axf::io {
namespace {

using axf::test::expect_axf_error;
using axf::test::ScratchDir;

std::filesystem::path entry(const std::string& id) { return axf::test::shared_data_dir() / "mmcif" / (id + ".cif"); }

const MmcifChain& chain(const MmcifStructure& s, const std::string& id) {
  for (const auto& c : s.chains) {
    if (c.id == id) return c;
  }
  throw std::runtime_error("no chain " + id);
}

size_t observed(const MmcifChain& c) {
  size_t n = 0;
  for (const auto& r : c.residues) n += !r.is_missing;
  return n;
}

// CA of SEQRES position i from chain_atom37, with its mask.
struct Ca {
  float x, y, z, mask;
};
Ca ca37(const std::vector<float>& pos, const std::vector<float>& mask, size_t i) {
  return {pos[(i * 37 + 1) * 3], pos[(i * 37 + 1) * 3 + 1], pos[(i * 37 + 1) * 3 + 2], mask[i * 37 + 1]};
}

void expect_ca(const Ca& ca, float x, float y, float z) {
  EXPECT_EQ(ca.mask, 1.0f);
  EXPECT_NEAR(ca.x, x, 1e-3);
  EXPECT_NEAR(ca.y, y, 1e-3);
  EXPECT_NEAR(ca.z, z, 1e-3);
}

TEST(Mmcif, Nmr1psmFirstModelOnly) {
  const MmcifStructure s = read_mmcif(entry("1psm"));
  EXPECT_EQ(s.file_id, "1psm");
  EXPECT_EQ(s.release_date, "1995-02-07");
  EXPECT_EQ(s.resolution, 0.0);  // NMR: no resolution item
  EXPECT_EQ(s.structure_method, "solution nmr");
  ASSERT_EQ(s.chains.size(), 1u);
  const MmcifChain& a = s.chains[0];
  EXPECT_EQ(a.id, "A");
  EXPECT_EQ(a.seqres_sequence, "EAYKKAKQASQDAEQAAKDAENASKEAEEAAKEAVNLK");
  EXPECT_EQ(a.residue_names.front(), "GLU");
  EXPECT_EQ(observed(a), 38u);

  std::vector<float> pos, mask;
  chain_atom37(s, "A", pos, mask);
  ASSERT_EQ(pos.size(), 38u * 37 * 3);
  ASSERT_EQ(mask.size(), 38u * 37);
  // Model 1 of 20 (gemmi: st[0]['A'] label_seq 1, 20, 38).
  expect_ca(ca37(pos, mask, 0), 1.695f, 0.093f, -0.970f);
  expect_ca(ca37(pos, mask, 19), 9.746f, 20.343f, 16.954f);
  expect_ca(ca37(pos, mask, 37), 6.031f, 40.868f, 25.383f);
  // Hydrogens are outside atom37: 563 atoms in model 1, 285 of them heavy atoms with atom37 names.
  size_t atoms = 0;
  for (const auto& r : a.residues) atoms += r.atoms.size();
  EXPECT_EQ(atoms, 563u);
  EXPECT_EQ(std::accumulate(mask.begin(), mask.end(), 0.0f), 285.0f);
}

TEST(Mmcif, ProteinDnaComplex2q2k) {
  const MmcifStructure s = read_mmcif(entry("2q2k"));
  EXPECT_EQ(s.file_id, "2q2k");
  EXPECT_EQ(s.release_date, "2008-02-05");  // earliest of 2008-02-05, 2011-07-13
  EXPECT_DOUBLE_EQ(s.resolution, 3.0);
  EXPECT_EQ(s.structure_method, "x-ray diffraction");
  // The DNA chain F is not a protein chain; A and B are the two copies of entity 2.
  ASSERT_EQ(s.chains.size(), 2u);
  EXPECT_EQ(s.chains[0].id, "A");
  EXPECT_EQ(s.chains[1].id, "B");
  EXPECT_EQ(s.chains[0].label_asym_id, "B");
  EXPECT_EQ(s.chains[0].entity_id, "2");
  const std::string seqres = "MGSSHHHHHHSSGLVPGSHMDKKETKHLLKIKKEDYPQIFDFLENVPRGTKTAHIREALRRYIEEIGENP";
  EXPECT_EQ(s.chains[0].seqres_sequence, seqres);
  EXPECT_EQ(s.chains[1].seqres_sequence, seqres);
  EXPECT_EQ(observed(s.chains[0]), 45u);
  EXPECT_EQ(observed(s.chains[1]), 44u);

  const MmcifChain& a = chain(s, "A");
  EXPECT_TRUE(a.residues[20].is_missing);
  EXPECT_EQ(a.residues[20].name, "ASP");  // the SEQRES name of an unobserved residue
  const MmcifResidue& first = a.residues[22];  // label_seq 23 is LYS 4 (author numbering)
  EXPECT_FALSE(first.is_missing);
  EXPECT_EQ(first.name, "LYS");
  EXPECT_EQ(first.auth_seq_id, 4);

  std::vector<float> pos, mask;
  chain_atom37(s, "A", pos, mask);
  ASSERT_EQ(mask.size(), 70u * 37);
  expect_ca(ca37(pos, mask, 22), 13.618f, 24.436f, 37.967f);
  expect_ca(ca37(pos, mask, 44), 32.416f, 26.813f, 15.472f);
  expect_ca(ca37(pos, mask, 66), 34.446f, 15.554f, 43.685f);
  EXPECT_EQ(ca37(pos, mask, 0).mask, 0.0f);  // unobserved His-tag: zero
  EXPECT_EQ(pos[0], 0.0f);

  chain_atom37(s, "B", pos, mask);
  expect_ca(ca37(pos, mask, 22), 35.107f, 39.893f, 19.925f);
  expect_ca(ca37(pos, mask, 65), 39.280f, 15.874f, 22.545f);
  expect_axf_error([&] { chain_atom37(s, "F", pos, mask); }, {"2q2k", "'F'", "A, B"});
}

TEST(Mmcif, ElectronMicroscopy3zee) {
  const MmcifStructure s = read_mmcif(entry("3zee"));
  EXPECT_EQ(s.release_date, "2013-10-16");
  EXPECT_DOUBLE_EQ(s.resolution, 6.1);  // _refine 6.10 and _em_3d_reconstruction 6.1
  EXPECT_EQ(s.structure_method, "electron microscopy");
  ASSERT_EQ(s.chains.size(), 1u);
  EXPECT_EQ(s.chains[0].residues.size(), 84u);
  EXPECT_EQ(observed(s.chains[0]), 84u);
  EXPECT_EQ(s.chains[0].seqres_sequence.substr(0, 10), "SEFKVTVCFG");
  std::vector<float> pos, mask;
  chain_atom37(s, "A", pos, mask);
  expect_ca(ca37(pos, mask, 0), 19.728f, 15.758f, -34.646f);
  expect_ca(ca37(pos, mask, 83), 36.884f, 25.145f, -8.132f);
}

TEST(Mmcif, TwoChains4i6pAtom37MatchesFile) {
  const MmcifStructure s = read_mmcif(entry("4i6p"));
  EXPECT_EQ(s.release_date, "2013-07-17");
  EXPECT_DOUBLE_EQ(s.resolution, 2.9);
  ASSERT_EQ(s.chains.size(), 2u);  // waters (chains C, D) are not polymers
  const MmcifChain& a = chain(s, "A");
  const MmcifChain& b = chain(s, "B");
  EXPECT_EQ(a.residues.size(), 88u);
  EXPECT_EQ(observed(a), 84u);
  EXPECT_EQ(observed(b), 82u);
  EXPECT_EQ(a.seqres_sequence.substr(0, 8), "GPGSEFKV");

  std::vector<float> pos, mask;
  chain_atom37(s, "A", pos, mask);
  expect_ca(ca37(pos, mask, 3), 7.212f, 33.699f, 13.019f);
  expect_ca(ca37(pos, mask, 45), 8.590f, 7.287f, -7.713f);
  expect_ca(ca37(pos, mask, 86), 13.572f, 11.933f, -11.525f);
  // Every observed residue's CA in atom37 is the file's CA; missing residues stay zero.
  for (size_t i = 0; i < a.residues.size(); ++i) {
    const MmcifResidue& r = a.residues[i];
    const Ca ca = ca37(pos, mask, i);
    if (r.is_missing) {
      EXPECT_EQ(ca.mask, 0.0f) << i;
      continue;
    }
    for (const MmcifAtom& atom : r.atoms) {
      if (atom.name != "CA") continue;
      EXPECT_EQ(ca.mask, 1.0f) << i;
      EXPECT_EQ(ca.x, atom.x) << i;
      EXPECT_EQ(ca.y, atom.y) << i;
      EXPECT_EQ(ca.z, atom.z) << i;
    }
  }
  EXPECT_EQ(std::accumulate(mask.begin(), mask.end(), 0.0f), 669.0f);

  chain_atom37(s, "B", pos, mask);
  EXPECT_EQ(ca37(pos, mask, 3).mask, 0.0f);
  expect_ca(ca37(pos, mask, 4), -9.267f, 35.863f, 16.093f);
}

// A small entry for the conventions the real files do not exercise.
constexpr const char* kSmall = R"(data_TEST
_entry.id TEST
loop_
_pdbx_audit_revision_history.ordinal
_pdbx_audit_revision_history.revision_date
1 2020-05-06
2 2019-01-02
_refine.ls_d_res_high ?
_reflns.d_resolution_high 2.50
_exptl.method 'X-RAY DIFFRACTION'
loop_
_entity_poly_seq.entity_id
_entity_poly_seq.num
_entity_poly_seq.mon_id
_entity_poly_seq.hetero
1 1 MSE n
1 2 ARG n
1 3 SEP n
1 4 GLY n
1 5 UNK n
2 1 DA n
2 2 DT n
loop_
_chem_comp.id
_chem_comp.type
ARG 'L-peptide linking'
DA 'DNA linking'
DT 'DNA linking'
GLY 'peptide linking'
MSE 'L-peptide linking'
SEP 'L-peptide linking'
UNK 'L-peptide linking'
loop_
_struct_asym.id
_struct_asym.entity_id
A 1
B 2
loop_
_atom_site.group_PDB
_atom_site.id
_atom_site.type_symbol
_atom_site.label_atom_id
_atom_site.label_alt_id
_atom_site.label_comp_id
_atom_site.label_asym_id
_atom_site.label_entity_id
_atom_site.label_seq_id
_atom_site.pdbx_PDB_ins_code
_atom_site.Cartn_x
_atom_site.Cartn_y
_atom_site.Cartn_z
_atom_site.occupancy
_atom_site.B_iso_or_equiv
_atom_site.auth_seq_id
_atom_site.auth_asym_id
_atom_site.pdbx_PDB_model_num
HETATM 1 N N . MSE A 1 1 ? 1.0 2.0 3.0 1.00 10.0 1 X 1
HETATM 2 C CA . MSE A 1 1 ? 2.0 2.0 3.0 1.00 10.0 1 X 1
HETATM 3 SE SE . MSE A 1 1 ? 4.0 5.0 6.0 1.00 12.5 1 X 1
ATOM 4 C CA A ARG A 1 2 ? 5.0 0.0 0.0 0.40 10.0 2 X 1
ATOM 5 C CA B ARG A 1 2 ? 5.5 0.0 0.0 0.60 10.0 2 X 1
ATOM 6 C CD . ARG A 1 2 ? 10.0 0.0 0.0 1.00 10.0 2 X 1
ATOM 7 N NH1 . ARG A 1 2 ? 13.0 0.0 0.0 1.00 10.0 2 X 1
ATOM 8 N NH2 . ARG A 1 2 ? 11.0 0.0 0.0 1.00 10.0 2 X 1
ATOM 9 H H . ARG A 1 2 ? 9.0 9.0 9.0 1.00 10.0 2 X 1
HETATM 10 C CA . SEP A 1 3 A 7.0 0.0 0.0 1.00 10.0 2 X 1
ATOM 11 C CA . UNK A 1 5 ? 9.0 0.0 0.0 1.00 10.0 5 X 1
ATOM 12 C CA . GLY A 1 4 ? 99.0 0.0 0.0 1.00 10.0 4 X 2
ATOM 13 P P . DA B 2 1 ? 0.0 0.0 0.0 1.00 10.0 1 Y 1
)";

std::filesystem::path write_text(const ScratchDir& dir, const std::string& name, const std::string& text) {
  const auto path = dir / name;
  std::ofstream(path) << text;
  return path;
}

// kSmall with its first occurrence of `from` replaced by `to`.
std::string small_with(const std::string& from, const std::string& to) {
  std::string text = kSmall;
  const size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  text.replace(at, from.size(), to);
  return text;
}

// 1-based line of the first occurrence of `needle` in `text`.
int line_of(const std::string& text, const std::string& needle) {
  const size_t at = text.find(needle);
  return 1 + static_cast<int>(std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(at), '\n'));
}

TEST(Mmcif, AlphaFoldConventions) {
  const ScratchDir dir("mmcif-small");
  const MmcifStructure s = read_mmcif(write_text(dir, "small.cif", kSmall));
  EXPECT_EQ(s.file_id, "test");
  EXPECT_EQ(s.release_date, "2019-01-02");  // the earliest revision, not the first listed
  EXPECT_DOUBLE_EQ(s.resolution, 2.5);      // _refine is '?', so _reflns gives it
  ASSERT_EQ(s.chains.size(), 1u);           // entity 2 is DNA
  const MmcifChain& x = s.chains[0];
  EXPECT_EQ(x.id, "X");
  EXPECT_EQ(x.seqres_sequence, "MRSGX");  // MSE -> M, SEP -> S, UNK -> X
  EXPECT_EQ(x.residue_names, (std::vector<std::string>{"MSE", "ARG", "SEP", "GLY", "UNK"}));

  EXPECT_TRUE(x.residues[0].hetatm);
  EXPECT_EQ(x.residues[0].atoms.size(), 3u);
  EXPECT_EQ(x.residues[0].atoms[2].element, "SE");
  EXPECT_FLOAT_EQ(x.residues[0].atoms[2].b_factor, 12.5f);
  EXPECT_EQ(x.residues[2].insertion_code, "A");
  EXPECT_TRUE(x.residues[3].is_missing);  // GLY has atoms only in model 2
  EXPECT_EQ(x.residues[3].name, "GLY");

  std::vector<float> pos, mask;
  chain_atom37(s, "X", pos, mask);
  ASSERT_EQ(mask.size(), 5u * 37);
  auto at = [&](size_t res, int atom, int xyz) { return pos[(res * 37 + static_cast<size_t>(atom)) * 3 + xyz]; };
  const int kN = 0, kCA = 1, kSD = 18, kCD = 11, kNH1 = 29, kNH2 = 30;
  // MSE: the selenium goes to SD.
  EXPECT_EQ(mask[0 * 37 + kSD], 1.0f);
  EXPECT_EQ(at(0, kSD, 0), 4.0f);
  EXPECT_EQ(at(0, kSD, 2), 6.0f);
  EXPECT_EQ(mask[0 * 37 + kN], 1.0f);
  // ARG: altloc B (occupancy 0.6) wins over A (0.4); NH2 was closer to CD, so NH1/NH2 are swapped.
  EXPECT_EQ(at(1, kCA, 0), 5.5f);
  EXPECT_EQ(at(1, kCD, 0), 10.0f);
  EXPECT_EQ(at(1, kNH1, 0), 11.0f);
  EXPECT_EQ(at(1, kNH2, 0), 13.0f);
  EXPECT_EQ(std::accumulate(mask.begin() + 37, mask.begin() + 74, 0.0f), 4.0f);  // CA CD NH1 NH2; H ignored
  EXPECT_EQ(std::accumulate(mask.begin() + 3 * 37, mask.begin() + 4 * 37, 0.0f), 0.0f);
  EXPECT_EQ(at(4, kCA, 0), 9.0f);
}

TEST(Mmcif, MalformedFilesNameFileAndLine) {
  const ScratchDir dir("mmcif-bad");
  expect_axf_error([] { read_mmcif("/nonexistent/1abc.cif"); }, {"/nonexistent/1abc.cif"});
  expect_axf_error([] { read_mmcif("/data/pdb/1abc.cif.gz"); }, {"/data/pdb/1abc.cif.gz", "gunzip"});

  // CIF syntax (gemmi's parser): an unterminated quote.
  std::string text = small_with("'X-RAY DIFFRACTION'", "'X-RAY DIFFRACTION");
  auto path = write_text(dir, "syntax.cif", text);
  expect_axf_error([&] { read_mmcif(path); },
                   {path.string() + ":" + std::to_string(line_of(text, "_exptl.method")) + ":"});

  // A loop row with a value missing.
  text = small_with("ATOM 13 P P . DA B 2 1 ? 0.0 0.0 0.0 1.00 10.0 1 Y 1", "ATOM 13 P P . DA B 2 1 ? 0.0");
  path = write_text(dir, "loop.cif", text);
  expect_axf_error([&] { read_mmcif(path); }, {path.string() + ":", "values"});

  // A coordinate that is not a number: the line of that atom.
  text = small_with("5.5 0.0 0.0 0.60", "5.5x 0.0 0.0 0.60");
  path = write_text(dir, "number.cif", text);
  expect_axf_error([&] { read_mmcif(path); },
                   {path.string() + ":" + std::to_string(line_of(text, "5.5x")) + ":", "expected a number", "'5.5x'"});

  // A polymer atom without an integer label_seq_id.
  text = small_with("UNK A 1 5 ?", "UNK A 1 . ?");
  path = write_text(dir, "seq.cif", text);
  expect_axf_error([&] { read_mmcif(path); },
                   {path.string() + ":" + std::to_string(line_of(text, "UNK A 1 . ?")) + ":", "label_seq_id"});

  // A required _atom_site item missing.
  text = small_with("_atom_site.Cartn_z", "_atom_site.Cartn_w");
  path = write_text(dir, "item.cif", text);
  expect_axf_error([&] { read_mmcif(path); }, {path.string() + ":", "_atom_site.Cartn_z"});

  // A monomer without a _chem_comp entry.
  text = small_with("UNK 'L-peptide linking'\n", "");
  path = write_text(dir, "comp.cif", text);
  expect_axf_error([&] { read_mmcif(path); }, {path.string() + ":", "'UNK'", "_chem_comp"});

  // Not mmCIF at all.
  path = write_text(dir, "text.cif", "HEADER    not a cif file\n");
  expect_axf_error([&] { read_mmcif(path); }, {path.string()});
}

}  // namespace
}  // namespace axf::io
