// Checks of the all-atom geometry (model/all_atom.h) and the rigid-group tables of model/residue_constants.h
// against an independent double-precision implementation of Suppl. Alg. 24 "computeAllAtomCoordinates" written
// with 4x4 homogeneous matrices:
//   T_backbone            = [R | t] of the residue,
//   D_g                   = the literature ("default") frame of group g, built here from the ideal atom positions
//                           by Gram-Schmidt (x-axis along the rotation axis, the dihedral-defining atom of the
//                           parent group in the xy-plane),
//   makeRotX(s, c)        = rotation about x by the torsion (Alg. 25),
//   T_g                   = T_backbone D_g makeRotX(torsion_g)          for pre-omega, phi, psi, chi1 (g = 1..4),
//   T_chi(k)              = T_chi(k-1) D_chi(k) makeRotX(chi_k)         for chi2..chi4 (Alg. 24 lines 7-10),
//   x_atom                = T_group(atom) [x_literature; 1]             (Alg. 24 line 11).
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "model/all_atom.h"
#include "model/residue_constants.h"

namespace axf::model {
namespace {

constexpr double kPi = 3.14159265358979323846;

// ---- Independent reference in double: 4x4 homogeneous matrices. ------------------------------------------------
using M4 = std::array<std::array<double, 4>, 4>;
using V3 = std::array<double, 3>;

M4 identity() {
  M4 m{};
  for (int i = 0; i < 4; ++i) m[i][i] = 1.0;
  return m;
}

M4 mul(const M4& a, const M4& b) {
  M4 c{};
  for (int i = 0; i < 4; ++i) {
    for (int j = 0; j < 4; ++j) {
      for (int k = 0; k < 4; ++k) c[i][j] += a[i][k] * b[k][j];
    }
  }
  return c;
}

V3 transform_point(const M4& m, const V3& x) {
  V3 y{};
  for (int i = 0; i < 3; ++i) y[i] = m[i][0] * x[0] + m[i][1] * x[1] + m[i][2] * x[2] + m[i][3];
  return y;
}

V3 sub(const V3& a, const V3& b) { return {a[0] - b[0], a[1] - b[1], a[2] - b[2]}; }
double dot(const V3& a, const V3& b) { return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]; }
V3 cross(const V3& a, const V3& b) {
  return {a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]};
}
V3 unit(const V3& a) {
  const double n = std::sqrt(dot(a, a));
  return {a[0] / n, a[1] / n, a[2] / n};
}

// The frame whose x-axis points along `x_dir`, whose xy-plane contains `in_plane` (positive y side) and whose origin
// is `origin`, as a homogeneous matrix mapping frame coordinates to parent coordinates.
M4 frame_from_axes(const V3& x_dir, const V3& in_plane, const V3& origin) {
  const V3 ex = unit(x_dir);
  const double p = dot(in_plane, ex);
  const V3 ey = unit({in_plane[0] - p * ex[0], in_plane[1] - p * ex[1], in_plane[2] - p * ex[2]});
  const V3 ez = cross(ex, ey);
  M4 m = identity();
  for (int i = 0; i < 3; ++i) {
    m[i][0] = ex[i];
    m[i][1] = ey[i];
    m[i][2] = ez[i];
    m[i][3] = origin[i];
  }
  return m;
}

// makeRotX (Suppl. Alg. 25) from (sin, cos).
M4 rot_x(double s, double c) {
  M4 m = identity();
  m[1][1] = c;
  m[1][2] = -s;
  m[2][1] = s;
  m[2][2] = c;
  return m;
}

V3 literature_position(int restype, std::string_view atom) {
  const RigidGroupAtomPosition* a = find_rigid_group_atom(restype, atom);
  EXPECT_NE(a, nullptr) << restype_names[restype] << " " << atom;
  return a ? a->position : V3{0, 0, 0};
}

// The literature frames D_g of the 8 groups of a standard residue type (Suppl. 1.8.4, Table 2). Frames of groups
// the residue lacks are left as identity (they carry no atoms).
std::array<M4, rigid_group_num> literature_frames(int restype) {
  std::array<M4, rigid_group_num> d;
  d.fill(identity());
  const V3 n = literature_position(restype, "N");
  const V3 ca = literature_position(restype, "CA");
  const V3 c = literature_position(restype, "C");
  // phi: rotation axis CA->N, origin N; x-axis along N - CA, (1, 0, 0) (the direction CA->C) fixes the xy-plane.
  d[2] = frame_from_axes(sub(n, ca), {1, 0, 0}, n);
  // psi: rotation axis CA->C, origin C; N on the negative-y side, i.e. CA - N in the xy-plane.
  d[3] = frame_from_axes(sub(c, ca), sub(ca, n), c);
  for (int k = 0; k < chi_count(restype); ++k) {
    const auto& atoms = chi_angles_atoms[restype][k];
    if (k == 0) {
      // chi1: axis CA->CB in the backbone frame, N (first chi atom) in the xy-plane.
      const V3 a0 = literature_position(restype, atoms[0]);
      const V3 a1 = literature_position(restype, atoms[1]);
      const V3 a2 = literature_position(restype, atoms[2]);
      d[4] = frame_from_axes(sub(a2, a1), sub(a0, a1), a2);
    } else {
      // chi(k+1): the axis runs from the previous frame's origin (atom 1 of this chi) to atom 2, which sits in the
      // previous frame's xy-plane; atom 0 lies on the previous frame's negative x-axis, so (-1, 0, 0) spans the
      // plane together with the axis.
      const V3 a2 = literature_position(restype, atoms[2]);
      d[4 + k] = frame_from_axes(a2, {-1, 0, 0}, a2);
    }
  }
  return d;
}

struct Residue {
  int restype;
  M4 backbone;
  std::array<std::array<double, 2>, torsion_num> sin_cos;
};

// Global frames of the 8 groups (Alg. 24 lines 1-10).
std::array<M4, rigid_group_num> reference_group_frames(const Residue& res) {
  const std::array<M4, rigid_group_num> d = literature_frames(res.restype);
  std::array<M4, rigid_group_num> t;
  t[0] = res.backbone;
  for (int g = 1; g <= 4; ++g) {
    t[g] = mul(res.backbone, mul(d[g], rot_x(res.sin_cos[g - 1][0], res.sin_cos[g - 1][1])));
  }
  for (int g = 5; g < rigid_group_num; ++g) {
    t[g] = mul(t[g - 1], mul(d[g], rot_x(res.sin_cos[g - 1][0], res.sin_cos[g - 1][1])));
  }
  return t;
}

// Atom14 coordinates (Alg. 24 line 11); absent atoms are zero.
std::array<V3, atom14_num> reference_atom14(const Residue& res) {
  std::array<V3, atom14_num> x{};
  if (res.restype >= restype_num) return x;
  const std::array<M4, rigid_group_num> t = reference_group_frames(res);
  for (const RigidGroupAtomPosition& a : rigid_group_atom_positions[res.restype]) {
    if (a.atom_name.empty()) continue;
    int slot = -1;
    for (int i = 0; i < atom14_num; ++i) {
      if (restype_name_to_atom14_names[res.restype][i] == a.atom_name) slot = i;
    }
    EXPECT_GE(slot, 0);
    if (slot >= 0) x[slot] = transform_point(t[a.group_idx], a.position);
  }
  return x;
}

// ---- Random inputs. ----------------------------------------------------------------------------------------------
M4 random_rigid(std::mt19937& rng, double max_translation) {
  std::normal_distribution<double> normal(0.0, 1.0);
  std::uniform_real_distribution<double> uni(-max_translation, max_translation);
  double q[4];
  double n = 0;
  for (double& v : q) {
    v = normal(rng);
    n += v * v;
  }
  n = std::sqrt(n);
  const double w = q[0] / n, x = q[1] / n, y = q[2] / n, z = q[3] / n;
  M4 m = identity();
  m[0] = {1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y), uni(rng)};
  m[1] = {2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x), uni(rng)};
  m[2] = {2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y), uni(rng)};
  return m;
}

Residue random_residue(std::mt19937& rng, int restype) {
  std::uniform_real_distribution<double> angle(-kPi, kPi);
  Residue r{restype, random_rigid(rng, 20.0), {}};
  for (auto& sc : r.sin_cos) {
    const double a = angle(rng);
    sc = {std::sin(a), std::cos(a)};
  }
  return r;
}

// Library inputs for a chain of residues.
struct Inputs {
  std::vector<int32_t> aatype;
  std::vector<float> rotations, translations, sin_cos;
};

Inputs to_inputs(const std::vector<Residue>& residues) {
  Inputs in;
  for (const Residue& r : residues) {
    in.aatype.push_back(r.restype);
    for (int i = 0; i < 3; ++i) {
      for (int j = 0; j < 3; ++j) in.rotations.push_back(static_cast<float>(r.backbone[i][j]));
      in.translations.push_back(static_cast<float>(r.backbone[i][3]));
    }
    for (const auto& sc : r.sin_cos) {
      in.sin_cos.push_back(static_cast<float>(sc[0]));
      in.sin_cos.push_back(static_cast<float>(sc[1]));
    }
  }
  return in;
}

// The float inputs as the reference sees them (so both sides start from identical numbers).
Residue as_float_inputs(Residue r) {
  for (auto& row : r.backbone) {
    for (double& v : row) v = static_cast<float>(v);
  }
  for (auto& sc : r.sin_cos) {
    for (double& v : sc) v = static_cast<float>(v);
  }
  return r;
}

struct Outputs {
  std::vector<float> group_rot, group_trans, atom14, atom14_mask, atom37, atom37_mask;
};

Outputs run_all_atom(const Inputs& in) {
  const int64_t n = static_cast<int64_t>(in.aatype.size());
  Outputs out;
  out.group_rot.assign(n * 8 * 9, -7.f);
  out.group_trans.assign(n * 8 * 3, -7.f);
  out.atom14.assign(n * 14 * 3, -7.f);
  out.atom14_mask.assign(n * 14, -7.f);
  out.atom37.assign(n * 37 * 3, -7.f);
  out.atom37_mask.assign(n * 37, -7.f);
  torsion_angles_to_frames(n, in.aatype.data(), in.rotations.data(), in.translations.data(), in.sin_cos.data(),
                           out.group_rot.data(), out.group_trans.data());
  frames_to_atom14_positions(n, in.aatype.data(), out.group_rot.data(), out.group_trans.data(), out.atom14.data(),
                             out.atom14_mask.data());
  atom14_to_atom37(n, in.aatype.data(), out.atom14.data(), out.atom37.data(), out.atom37_mask.data());
  return out;
}

int atom14_count(int restype) {
  int n = 0;
  for (std::string_view a : restype_name_to_atom14_names[restype]) n += a.empty() ? 0 : 1;
  return n;
}

// ---- Tables. -----------------------------------------------------------------------------------------------------

TEST(RigidGroupTables, DefaultFramesMatchTheLiteratureFrames) {
  const RestypeRigidGroupFrames& table = restype_rigid_group_default_frame();
  for (int r = 0; r < restype_num; ++r) {
    const std::array<M4, rigid_group_num> d = literature_frames(r);
    for (int g = 0; g < rigid_group_num; ++g) {
      const bool defined = g < 4 || chi_angles_mask[r][g - 4] != 0.f;
      for (int i = 0; i < 4; ++i) {
        for (int j = 0; j < 4; ++j) {
          const double want = defined ? d[g][i][j] : 0.0;  // undefined chi groups stay all-zero, as in AlphaFold
          EXPECT_NEAR(table[r][g][i][j], want, 1e-6) << restype_names[r] << " group " << g << " [" << i << "][" << j
                                                     << "]";
        }
      }
    }
  }
  // UNK: all 8 default frames are zero matrices (AlphaFold fills only the 20 standard types).
  for (int g = 0; g < rigid_group_num; ++g) {
    for (int i = 0; i < 4; ++i) {
      for (int j = 0; j < 4; ++j) EXPECT_EQ(table[unk_restype_index][g][i][j], 0.f);
    }
  }
}

TEST(RigidGroupTables, LiteralFacts) {
  const RestypeRigidGroupFrames& f = restype_rigid_group_default_frame();
  const int ala = resname_index("ALA"), arg = resname_index("ARG"), trp = resname_index("TRP");
  // Literature positions of a few atoms, as published.
  EXPECT_EQ(rigid_group_atom_count(ala), 5);
  EXPECT_EQ(rigid_group_atom_count(trp), 14);
  EXPECT_EQ(rigid_group_atom_count(unk_restype_index), 0);
  EXPECT_FLOAT_EQ(restype_atom14_rigid_group_positions[ala][4][0], -0.529f);  // ALA CB
  EXPECT_FLOAT_EQ(restype_atom14_rigid_group_positions[ala][4][1], -0.774f);
  EXPECT_FLOAT_EQ(restype_atom14_rigid_group_positions[ala][4][2], -1.205f);
  EXPECT_EQ(restype_atom14_to_rigid_group[ala][3], 3);  // O in the psi group
  EXPECT_EQ(restype_atom14_to_rigid_group[arg][10], 7);  // NH2 in the chi4 group
  EXPECT_FLOAT_EQ(restype_atom37_rigid_group_positions[arg][atom37_index("NH1")][1], 2.301f);
  EXPECT_EQ(restype_atom37_to_rigid_group[trp][atom37_index("CH2")], 5);
  EXPECT_FLOAT_EQ(restype_atom37_rigid_group_positions[resname_index("PRO")][atom37_index("CD")][0], 0.477f);
  // Backbone and pre-omega frames are identities; the psi frame sits on C, chi1 on CB, ARG chi2 on CG (0.616, 1.39).
  for (int r = 0; r < restype_num; ++r) {
    for (int i = 0; i < 4; ++i) {
      for (int j = 0; j < 4; ++j) {
        EXPECT_EQ(f[r][0][i][j], i == j ? 1.f : 0.f);
        EXPECT_EQ(f[r][1][i][j], i == j ? 1.f : 0.f);
      }
    }
    const V3 c = literature_position(r, "C");
    for (int i = 0; i < 3; ++i) EXPECT_FLOAT_EQ(f[r][3][i][3], static_cast<float>(c[i]));
    if (chi_count(r) > 0) {
      const V3 cb = literature_position(r, "CB");
      for (int i = 0; i < 3; ++i) EXPECT_FLOAT_EQ(f[r][4][i][3], static_cast<float>(cb[i]));
    }
  }
  EXPECT_FLOAT_EQ(f[arg][5][0][3], 0.616f);
  EXPECT_FLOAT_EQ(f[arg][5][1][3], 1.390f);
  EXPECT_FLOAT_EQ(f[arg][5][2][3], 0.f);
  // ALA has no chi groups: all-zero matrices.
  for (int g = 4; g < rigid_group_num; ++g) EXPECT_EQ(f[ala][g][3][3], 0.f);
  EXPECT_EQ(f[arg][7][3][3], 1.f);
}

TEST(RigidGroupTables, IndexMapsAndMasks) {
  // atom14 <-> atom37 maps (make_atom14_masks): each named atom14 slot maps to its atom37 slot and back.
  for (int r = 0; r < restype_num_with_x; ++r) {
    int named = 0;
    for (int i = 0; i < atom14_num; ++i) {
      const std::string_view name = restype_name_to_atom14_names[r][i];
      EXPECT_EQ(restype_atom14_mask[r][i], name.empty() ? 0.f : 1.f);
      if (name.empty()) {
        EXPECT_EQ(restype_atom14_to_atom37[r][i], 0);
        continue;
      }
      ++named;
      EXPECT_EQ(restype_atom14_to_atom37[r][i], atom37_index(name));
      EXPECT_EQ(restype_atom37_to_atom14[r][atom37_index(name)], i);
      EXPECT_EQ(atom14_index(r, name), i);
    }
    float sum37 = 0.f;
    for (int j = 0; j < atom_type_num; ++j) {
      sum37 += restype_atom37_mask[r][j];
      EXPECT_EQ(restype_atom37_mask[r][j], restype_atom37_exists[r][j]);
      if (restype_atom37_exists[r][j] == 0.f) {
        EXPECT_EQ(restype_atom37_to_atom14[r][j], 0);
      }
    }
    EXPECT_EQ(static_cast<int>(sum37), named) << restype_names[r];
  }
  EXPECT_EQ(restype_atom37_to_atom14[resname_index("ALA")][3], 4);     // ALA CB
  EXPECT_EQ(restype_atom14_to_atom37[resname_index("TRP")][13], 28);   // TRP CH2
  EXPECT_EQ(restype_atom14_to_atom37[resname_index("LYS")][8], 35);    // LYS NZ
}

TEST(ResidueConstantsSection4, ScalarsAndStereoTables) {
  EXPECT_DOUBLE_EQ(van_der_waals_radius('C'), 1.7);
  EXPECT_DOUBLE_EQ(van_der_waals_radius('N'), 1.55);
  EXPECT_DOUBLE_EQ(van_der_waals_radius('O'), 1.52);
  EXPECT_DOUBLE_EQ(van_der_waals_radius('S'), 1.8);
  EXPECT_DOUBLE_EQ(between_res_bond_length_c_n[0], 1.329);
  EXPECT_DOUBLE_EQ(between_res_bond_length_c_n[1], 1.341);
  EXPECT_DOUBLE_EQ(between_res_bond_length_stddev_c_n[0], 0.014);
  EXPECT_DOUBLE_EQ(between_res_bond_length_stddev_c_n[1], 0.016);
  // The cosines are those of the angles quoted next to them in AlphaFold (121.352 and 116.568 degrees).
  EXPECT_NEAR(between_res_cos_angles_c_n_ca[0], std::cos(121.352 / 180 * kPi), 1e-4);
  EXPECT_NEAR(between_res_cos_angles_ca_c_n[0], std::cos(116.568 / 180 * kPi), 1e-4);
  EXPECT_NEAR(ca_ca, 3.80209737096, 0);
  EXPECT_EQ(stereo_chemical_bonds().size(), 153u);
  EXPECT_EQ(stereo_chemical_bond_angles().size(), 174u);
  EXPECT_EQ(residue_bonds("UNK").size(), 0u);
  EXPECT_EQ(residue_bonds("GLY").size(), 3u);
  EXPECT_EQ(residue_bonds("TRP").size(), 15u);
  EXPECT_EQ(residue_bond_angles("TRP").size(), 20u);
  const StereoBond sg = residue_bonds("CYS")[1];
  EXPECT_EQ(sg.atom1, "CB");
  EXPECT_EQ(sg.atom2, "SG");
  EXPECT_DOUBLE_EQ(sg.length, 1.812);
  EXPECT_DOUBLE_EQ(sg.stddev, 0.016);
  const StereoBondAngle ce = residue_bond_angles("MET")[4];
  EXPECT_EQ(ce.atom2, "SD");
  EXPECT_DOUBLE_EQ(ce.angle_deg, 100.2);
  EXPECT_NEAR(ce.angle_rad(), 100.2 / 180 * kPi, 1e-15);
  EXPECT_EQ(residue_atom_renaming_swaps[2].resname, "PHE");
  EXPECT_EQ(residue_atom_renaming_swaps[2].pairs[1][1], "CE2");
}

// ---- all_atom.h against the reference. ---------------------------------------------------------------------------

TEST(AllAtom, MatchesHomogeneousMatrixReferenceForEveryResidueType) {
  std::mt19937 rng(1234);
  std::vector<Residue> residues;
  for (int rep = 0; rep < 6; ++rep) {
    for (int r = 0; r < restype_num; ++r) residues.push_back(as_float_inputs(random_residue(rng, r)));
  }
  const Inputs in = to_inputs(residues);
  const Outputs out = run_all_atom(in);

  double max_frame_err = 0, max_atom_err = 0;
  for (size_t i = 0; i < residues.size(); ++i) {
    const Residue& res = residues[i];
    const std::array<M4, rigid_group_num> t = reference_group_frames(res);
    for (int g = 0; g < rigid_group_num; ++g) {
      const bool defined = g < 4 || chi_angles_mask[res.restype][g - 4] != 0.f;
      if (!defined) continue;  // AlphaFold's zero default frame: degenerate, carries no atoms
      for (int a = 0; a < 3; ++a) {
        for (int b = 0; b < 3; ++b) {
          const double err = std::abs(out.group_rot[(i * 8 + g) * 9 + a * 3 + b] - t[g][a][b]);
          max_frame_err = std::max(max_frame_err, err);
          EXPECT_NEAR(out.group_rot[(i * 8 + g) * 9 + a * 3 + b], t[g][a][b], 2e-6)
              << restype_names[res.restype] << " group " << g;
        }
        EXPECT_NEAR(out.group_trans[(i * 8 + g) * 3 + a], t[g][a][3], 2e-5) << restype_names[res.restype] << " " << g;
      }
    }
    const std::array<V3, atom14_num> x = reference_atom14(res);
    for (int a = 0; a < atom14_num; ++a) {
      for (int k = 0; k < 3; ++k) {
        const double err = std::abs(out.atom14[(i * 14 + a) * 3 + k] - x[a][k]);
        max_atom_err = std::max(max_atom_err, err);
        EXPECT_NEAR(out.atom14[(i * 14 + a) * 3 + k], x[a][k], 2e-5)
            << restype_names[res.restype] << " " << restype_name_to_atom14_names[res.restype][a];
      }
    }
  }
  RecordProperty("max_rotation_error", std::to_string(max_frame_err));
  RecordProperty("max_atom_error_angstrom", std::to_string(max_atom_err));
}

TEST(AllAtom, Atom14MaskMatchesTheResidueAtomList) {
  std::mt19937 rng(7);
  std::vector<Residue> residues;
  for (int r = 0; r <= unk_restype_index; ++r) residues.push_back(random_residue(rng, r));
  const Inputs in = to_inputs(residues);
  const Outputs out = run_all_atom(in);
  std::vector<float> m14(residues.size() * 14, -1.f), m37(residues.size() * 37, -1.f);
  atom14_exists(static_cast<int64_t>(residues.size()), in.aatype.data(), m14.data());
  atom37_exists(static_cast<int64_t>(residues.size()), in.aatype.data(), m37.data());
  for (size_t i = 0; i < residues.size(); ++i) {
    const int r = residues[i].restype;
    for (int a = 0; a < atom14_num; ++a) {
      const float want = restype_name_to_atom14_names[r][a].empty() ? 0.f : 1.f;
      EXPECT_EQ(out.atom14_mask[i * 14 + a], want) << restype_names[r] << " slot " << a;
      EXPECT_EQ(m14[i * 14 + a], want);
      if (want == 0.f) {
        for (int k = 0; k < 3; ++k) EXPECT_EQ(out.atom14[(i * 14 + a) * 3 + k], 0.f);
      }
    }
    for (int j = 0; j < atom_type_num; ++j) {
      const float want = atom14_index(r, atom_types[j]) >= 0 ? 1.f : 0.f;
      EXPECT_EQ(m37[i * 37 + j], want) << restype_names[r] << " " << atom_types[j];
      EXPECT_EQ(out.atom37_mask[i * 37 + j], want);
    }
  }
}

TEST(AllAtom, Atom37PutsEveryAtomAtItsNamedSlot) {
  std::mt19937 rng(99);
  std::vector<Residue> residues;
  for (int r = 0; r < restype_num; ++r) residues.push_back(random_residue(rng, r));
  const Inputs in = to_inputs(residues);
  const Outputs out = run_all_atom(in);
  for (size_t i = 0; i < residues.size(); ++i) {
    const int r = residues[i].restype;
    std::array<bool, atom_type_num> filled{};
    for (int a = 0; a < atom14_num; ++a) {
      const std::string_view name = restype_name_to_atom14_names[r][a];
      if (name.empty()) continue;
      const int j = atom37_index(name);
      filled[j] = true;
      for (int k = 0; k < 3; ++k) EXPECT_EQ(out.atom37[(i * 37 + j) * 3 + k], out.atom14[(i * 14 + a) * 3 + k]);
    }
    for (int j = 0; j < atom_type_num; ++j) {
      EXPECT_EQ(out.atom37_mask[i * 37 + j], filled[j] ? 1.f : 0.f);
      if (!filled[j]) {
        for (int k = 0; k < 3; ++k) EXPECT_EQ(out.atom37[(i * 37 + j) * 3 + k], 0.f);
      }
    }
  }
  // ALA (residue 0): CB is atom14 slot 4 and atom37 slot 3; OXT (36) is never produced.
  for (int k = 0; k < 3; ++k) {
    EXPECT_EQ(out.atom37[(0 * 37 + 3) * 3 + k], out.atom14[(0 * 14 + 4) * 3 + k]);
    EXPECT_NE(out.atom37[(0 * 37 + 3) * 3 + k], 0.f);
  }
  EXPECT_EQ(out.atom37_mask[36], 0.f);
  // The backbone: CA at the frame's translation, N and C at their literature positions in the backbone frame.
  for (size_t i = 0; i < residues.size(); ++i) {
    const int r = residues[i].restype;
    for (std::string_view name : {"N", "CA", "C", "CB"}) {
      if (atom14_index(r, name) < 0) continue;
      const V3 want = transform_point(residues[i].backbone, literature_position(r, name));
      for (int k = 0; k < 3; ++k) EXPECT_NEAR(out.atom37[(i * 37 + atom37_index(name)) * 3 + k], want[k], 2e-5);
    }
  }
}

TEST(AllAtom, BackboneRigidMotionMovesAllAtomsRigidly) {
  std::mt19937 rng(2024);
  std::vector<Residue> residues;
  for (int r = 0; r < restype_num; ++r) residues.push_back(random_residue(rng, r));
  const M4 motion = random_rigid(rng, 15.0);
  std::vector<Residue> moved = residues;
  for (Residue& res : moved) res.backbone = mul(motion, res.backbone);
  const Outputs a = run_all_atom(to_inputs(residues));
  const Outputs b = run_all_atom(to_inputs(moved));
  for (size_t i = 0; i < residues.size(); ++i) {
    for (int s = 0; s < atom14_num; ++s) {
      const V3 x = {a.atom14[(i * 14 + s) * 3 + 0], a.atom14[(i * 14 + s) * 3 + 1], a.atom14[(i * 14 + s) * 3 + 2]};
      const V3 want = a.atom14_mask[i * 14 + s] != 0.f ? transform_point(motion, x) : V3{0, 0, 0};
      for (int k = 0; k < 3; ++k) EXPECT_NEAR(b.atom14[(i * 14 + s) * 3 + k], want[k], 1e-4);
    }
  }
}

TEST(AllAtom, TorsionsAreTheDihedralsOfTheBuiltAtoms) {
  // Independent check of the angle conventions: the built chi_k equals the dihedral of its four atoms, and psi is
  // the dihedral N-CA-C-O minus pi (AlphaFold measures psi through O and mirrors it).
  std::mt19937 rng(5);
  std::vector<Residue> residues;
  for (int rep = 0; rep < 3; ++rep) {
    for (int r = 0; r < restype_num; ++r) residues.push_back(random_residue(rng, r));
  }
  const Outputs out = run_all_atom(to_inputs(residues));
  auto pos = [&](size_t i, std::string_view name) {
    const int j = atom37_index(name);
    return V3{out.atom37[(i * 37 + j) * 3 + 0], out.atom37[(i * 37 + j) * 3 + 1], out.atom37[(i * 37 + j) * 3 + 2]};
  };
  auto dihedral = [](const V3& p0, const V3& p1, const V3& p2, const V3& p3) {
    const V3 b1 = sub(p1, p0), b2 = sub(p2, p1), b3 = sub(p3, p2);
    const V3 n2 = cross(b2, b3);
    return std::atan2(std::sqrt(dot(b2, b2)) * dot(b1, n2), dot(cross(b1, b2), n2));
  };
  auto angle_diff = [](double a, double b) { return std::abs(std::remainder(a - b, 2 * kPi)); };
  for (size_t i = 0; i < residues.size(); ++i) {
    const Residue& res = residues[i];
    const double psi = std::atan2(res.sin_cos[2][0], res.sin_cos[2][1]);
    EXPECT_LT(angle_diff(dihedral(pos(i, "N"), pos(i, "CA"), pos(i, "C"), pos(i, "O")), psi + kPi), 1e-4);
    for (int k = 0; k < chi_count(res.restype); ++k) {
      const auto& names = chi_angles_atoms[res.restype][k];
      const double chi = std::atan2(res.sin_cos[3 + k][0], res.sin_cos[3 + k][1]);
      const double measured = dihedral(pos(i, names[0]), pos(i, names[1]), pos(i, names[2]), pos(i, names[3]));
      EXPECT_LT(angle_diff(measured, chi), 1e-4) << restype_names[res.restype] << " chi" << k + 1;
    }
  }
}

TEST(AllAtom, UnknownResidueFollowsAlphaFold) {
  // AlphaFold has no atoms for UNK: its restype_atom14_mask / atom37_atom_exists rows are zero, so every coordinate
  // is zero, and its default frames are zero matrices, so each group frame has a zero rotation and the backbone
  // translation. aatype values > 20 are treated as 20.
  std::mt19937 rng(3);
  std::vector<Residue> residues = {random_residue(rng, 20), random_residue(rng, 0), random_residue(rng, 20)};
  Inputs in = to_inputs(residues);
  in.aatype[2] = 25;
  const Outputs out = run_all_atom(in);
  for (size_t i : {size_t{0}, size_t{2}}) {
    for (int g = 0; g < rigid_group_num; ++g) {
      for (int k = 0; k < 9; ++k) EXPECT_EQ(out.group_rot[(i * 8 + g) * 9 + k], 0.f);
      for (int k = 0; k < 3; ++k) EXPECT_EQ(out.group_trans[(i * 8 + g) * 3 + k], in.translations[i * 3 + k]);
    }
    for (int a = 0; a < atom14_num; ++a) {
      EXPECT_EQ(out.atom14_mask[i * 14 + a], 0.f);
      for (int k = 0; k < 3; ++k) EXPECT_EQ(out.atom14[(i * 14 + a) * 3 + k], 0.f);
    }
    for (int j = 0; j < atom_type_num; ++j) {
      EXPECT_EQ(out.atom37_mask[i * 37 + j], 0.f);
      for (int k = 0; k < 3; ++k) EXPECT_EQ(out.atom37[(i * 37 + j) * 3 + k], 0.f);
    }
  }
  // The ALA between them is unaffected.
  EXPECT_EQ(std::accumulate(out.atom14_mask.begin() + 14, out.atom14_mask.begin() + 28, 0.f), 5.f);

  // Negative aatype is rejected; zero residues is a no-op.
  const int32_t bad = -1;
  float mask[37];
  EXPECT_THROW(atom37_exists(1, &bad, mask), axf::Error);
  EXPECT_NO_THROW(torsion_angles_to_frames(0, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr));
}

TEST(AllAtom, AtomCountsPerResidueType) {
  const int counts[21] = {5, 11, 8, 8, 6, 9, 9, 4, 10, 8, 8, 9, 8, 11, 7, 6, 7, 14, 12, 7, 0};
  std::vector<int32_t> aatype(21);
  for (int r = 0; r < 21; ++r) aatype[r] = r;
  std::vector<float> m14(21 * 14), m37(21 * 37);
  atom14_exists(21, aatype.data(), m14.data());
  atom37_exists(21, aatype.data(), m37.data());
  for (int r = 0; r < 21; ++r) {
    EXPECT_EQ(std::accumulate(m14.begin() + r * 14, m14.begin() + (r + 1) * 14, 0.f), counts[r]) << r;
    EXPECT_EQ(std::accumulate(m37.begin() + r * 37, m37.begin() + (r + 1) * 37, 0.f), counts[r]) << r;
    EXPECT_EQ(atom14_count(r), counts[r]);
  }
}

}  // namespace
}  // namespace axf::model
