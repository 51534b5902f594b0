// Checks of the AlphaFold residue constants tables (model/residue_constants.h) against literal AlphaFold facts.
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <string_view>

#include "core/error.h"
#include "model/residue_constants.h"

namespace axf::model {
namespace {

TEST(ResidueConstants, RestypeOrder) {
  EXPECT_EQ(restype_num, 20);
  EXPECT_EQ(unk_restype_index, 20);
  EXPECT_EQ(std::string(restypes.begin(), restypes.end()), "ARNDCQEGHILKMFPSTWYV");
  EXPECT_EQ(std::string(restypes_with_x.begin(), restypes_with_x.end()), "ARNDCQEGHILKMFPSTWYVX");
  for (int i = 0; i < restype_num; ++i) {
    EXPECT_EQ(restype_order(restypes[i]), i);
    EXPECT_EQ(restype_index(restypes[i]), i);
  }
  EXPECT_EQ(restype_order('X'), -1);
  EXPECT_EQ(restype_index('X'), 20);
  EXPECT_EQ(restype_index('B'), 20);
  EXPECT_EQ(restype_index('-'), 20);
  EXPECT_EQ(restype_index('a'), 20);
  EXPECT_EQ(restype_order('G'), 7);
}

TEST(ResidueConstants, ThreeLetterRoundTrips) {
  // Three-letter names sorted alphabetically give the one-letter order (AlphaFold's construction).
  for (int i = 0; i + 1 < restype_num; ++i) EXPECT_LT(restype_names[i], restype_names[i + 1]);
  EXPECT_EQ(restype_1to3('A'), "ALA");
  EXPECT_EQ(restype_1to3('W'), "TRP");
  EXPECT_EQ(restype_1to3('X'), "UNK");
  EXPECT_EQ(restype_3to1("TYR"), 'Y');
  EXPECT_EQ(restype_3to1("UNK"), 'X');
  for (char c : restypes_with_x) {
    EXPECT_EQ(restype_3to1(restype_1to3(c)), c);
    EXPECT_EQ(resname_index(restype_1to3(c)), restype_index(c));
  }
  for (std::string_view n : restype_names) EXPECT_EQ(restype_1to3(restype_3to1(n)), n);
  EXPECT_THROW(restype_1to3('B'), axf::Error);
  EXPECT_THROW(restype_3to1("MSE"), axf::Error);
  EXPECT_EQ(resname_index("HOH"), -1);
}

TEST(ResidueConstants, Atom37Order) {
  EXPECT_EQ(atom_type_num, 37);
  EXPECT_EQ(atom_types.size(), 37u);
  EXPECT_EQ(atom37_index("N"), 0);
  EXPECT_EQ(atom37_index("CA"), 1);
  EXPECT_EQ(atom37_index("C"), 2);
  EXPECT_EQ(atom37_index("CB"), 3);
  EXPECT_EQ(atom37_index("O"), 4);
  EXPECT_EQ(atom37_index("CD1"), 12);  // "slot 12 always corresponds to 'C delta 1'" (all_atom.py)
  EXPECT_EQ(atom37_index("NZ"), 35);
  EXPECT_EQ(atom37_index("OXT"), 36);
  EXPECT_EQ(atom37_index("XX"), -1);
  EXPECT_EQ(atom37_index(""), -1);
  std::set<std::string_view> unique(atom_types.begin(), atom_types.end());
  EXPECT_EQ(unique.size(), 37u);
  for (int i = 0; i < atom_type_num; ++i) EXPECT_EQ(atom37_index(atom_types[i]), i);
}

TEST(ResidueConstants, Atom14Names) {
  ASSERT_EQ(restype_name_to_atom14_names.size(), 21u);
  const int counts[21] = {5, 11, 8, 8, 6, 9, 9, 4, 10, 8, 8, 9, 8, 11, 7, 6, 7, 14, 12, 7, 0};
  for (int r = 0; r < 21; ++r) {
    int n = 0;
    for (std::string_view a : restype_name_to_atom14_names[r]) n += a.empty() ? 0 : 1;
    EXPECT_EQ(n, counts[r]) << restype_names[r];
    if (r < restype_num) {
      // Backbone first: N, CA, C, O.
      EXPECT_EQ(restype_name_to_atom14_names[r][0], "N");
      EXPECT_EQ(restype_name_to_atom14_names[r][1], "CA");
      EXPECT_EQ(restype_name_to_atom14_names[r][2], "C");
      EXPECT_EQ(restype_name_to_atom14_names[r][3], "O");
    }
    for (std::string_view a : restype_name_to_atom14_names[r]) {
      if (!a.empty()) {
        EXPECT_GE(atom37_index(a), 0) << a;
      }
    }
  }
  EXPECT_EQ(restype_name_to_atom14_names[restype_order('W')][13], "CH2");
  EXPECT_EQ(restype_name_to_atom14_names[restype_order('T')][5], "OG1");
  EXPECT_EQ(restype_name_to_atom14_names[restype_order('G')][4], "");
}

TEST(ResidueConstants, ChiCounts) {
  // ALA R N D C Q E G H I L K M F P S T W Y V UNK
  const int expected[21] = {0, 4, 2, 2, 1, 3, 3, 0, 2, 2, 2, 4, 3, 2, 2, 1, 1, 2, 2, 1, 0};
  for (int r = 0; r < 21; ++r) {
    EXPECT_EQ(chi_count(r), expected[r]) << restype_names[r];
    for (int c = 0; c < chi_num; ++c) {
      EXPECT_EQ(chi_angles_mask[r][c], c < expected[r] ? 1.f : 0.f) << restype_names[r] << " chi" << c + 1;
      EXPECT_EQ(chi_angles_atoms[r][c][0].empty(), c >= expected[r]) << restype_names[r] << " chi" << c + 1;
    }
  }
  EXPECT_EQ(chi_count(restype_order('A')), 0);
  EXPECT_EQ(chi_count(restype_order('R')), 4);
  EXPECT_EQ(chi_count(restype_order('K')), 4);
  EXPECT_EQ(chi_count(restype_order('S')), 1);
  EXPECT_EQ(chi_count(restype_order('F')), 2);
  EXPECT_EQ(chi_count(unk_restype_index), 0);
}

TEST(ResidueConstants, ChiPiPeriodicExactlyFour) {
  std::set<std::pair<std::string_view, int>> periodic;
  for (int r = 0; r < 21; ++r) {
    for (int c = 0; c < chi_num; ++c) {
      const float v = chi_pi_periodic[r][c];
      EXPECT_TRUE(v == 0.f || v == 1.f);
      if (v == 1.f) periodic.insert({restype_names[r], c + 1});
    }
  }
  const std::set<std::pair<std::string_view, int>> expected = {{"ASP", 2}, {"GLU", 3}, {"PHE", 2}, {"TYR", 2}};
  EXPECT_EQ(periodic, expected);
}

TEST(ResidueConstants, ChiAtomsExistInResidue) {
  for (int r = 0; r < 21; ++r) {
    for (int c = 0; c < chi_count(r); ++c) {
      for (int a = 0; a < 4; ++a) {
        const std::string_view name = chi_angles_atoms[r][c][a];
        bool found = false;
        for (std::string_view n : restype_name_to_atom14_names[r]) found = found || n == name;
        EXPECT_TRUE(found) << restype_names[r] << " chi" << c + 1 << " atom " << name;
      }
      // Consecutive chis share three atoms (chi_k+1 = chi_k shifted by one atom).
      if (c > 0) {
        for (int a = 0; a < 3; ++a) EXPECT_EQ(chi_angles_atoms[r][c][a], chi_angles_atoms[r][c - 1][a + 1]);
      }
    }
    if (chi_count(r) > 0) {
      EXPECT_EQ(chi_angles_atoms[r][0][0], "N");
      EXPECT_EQ(chi_angles_atoms[r][0][1], "CA");
      EXPECT_EQ(chi_angles_atoms[r][0][2], "CB");
    }
  }
  // A few literal rows from residue_constants.py.
  const ChiAtomNames& arg = chi_angles_atoms[restype_order('R')];
  EXPECT_EQ(arg[3][3], "CZ");
  EXPECT_EQ(chi_angles_atoms[restype_order('I')][1][3], "CD1");
  EXPECT_EQ(chi_angles_atoms[restype_order('M')][2][3], "CE");
  EXPECT_EQ(chi_angles_atoms[restype_order('T')][0][3], "OG1");
  EXPECT_EQ(chi_angles_atoms[restype_order('H')][1][3], "ND1");
  EXPECT_EQ(chi_angles_atoms[restype_order('N')][1][3], "OD1");
}

TEST(ResidueConstants, ChiAtom37Indices) {
  // ARG: chi1 N CA CB CG = 0 1 3 5; chi4 CG CD NE CZ = 5 11 23 32.
  const ChiAtomIndices arg = chi_atom37_indices(restype_order('R'));
  EXPECT_EQ(arg[0], (std::array<int, 4>{0, 1, 3, 5}));
  EXPECT_EQ(arg[3], (std::array<int, 4>{5, 11, 23, 32}));
  // SER: chi1 N CA CB OG = 0 1 3 8, other chis zeros.
  const ChiAtomIndices ser = chi_atom37_indices(restype_order('S'));
  EXPECT_EQ(ser[0], (std::array<int, 4>{0, 1, 3, 8}));
  for (int c = 1; c < 4; ++c) EXPECT_EQ(ser[c], (std::array<int, 4>{0, 0, 0, 0}));
  for (int r : {restype_order('G'), restype_order('A'), unk_restype_index}) {
    for (const auto& row : chi_atom37_indices(r)) EXPECT_EQ(row, (std::array<int, 4>{0, 0, 0, 0}));
  }
  for (int r = 0; r < 21; ++r) {
    const ChiAtomIndices idx = chi_atom37_indices(r);
    for (int c = 0; c < chi_count(r); ++c) {
      for (int a = 0; a < 4; ++a) EXPECT_EQ(idx[c][a], atom37_index(chi_angles_atoms[r][c][a]));
    }
  }
}

}  // namespace
}  // namespace axf::model
