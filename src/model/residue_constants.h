// AlphaFold2 residue constants as compile-time data (AlphaFold source: alphafold/common/residue_constants.py; Suppl.
// Table 2 torsions/rigid groups): residue types [21], atom37 names [37], atom14 names [21][14], chi tables [21][4].
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace axf::model {

// =====================================================================================================
// Section 1. Residue types (restypes, restype_order, restypes_with_x, restype_1to3 / resnames).
// Index 0..19 = the 20 standard amino acids in AlphaFold's order; index 20 = unknown ('X', "UNK").
// =====================================================================================================

inline constexpr int restype_num = 20;                  // len(restypes)
inline constexpr int unk_restype_index = restype_num;   // catch-all index for unknown residues
inline constexpr int restype_num_with_x = restype_num + 1;

// One-letter codes in AlphaFold's order (three-letter codes sorted alphabetically).
inline constexpr std::array<char, restype_num> restypes = {'A', 'R', 'N', 'D', 'C', 'Q', 'E', 'G', 'H', 'I',
                                                           'L', 'K', 'M', 'F', 'P', 'S', 'T', 'W', 'Y', 'V'};
// restypes + ['X'].
inline constexpr std::array<char, restype_num_with_x> restypes_with_x = {
    'A', 'R', 'N', 'D', 'C', 'Q', 'E', 'G', 'H', 'I', 'L', 'K', 'M', 'F', 'P', 'S', 'T', 'W', 'Y', 'V', 'X'};
// Three-letter names by index: AlphaFold's `resnames` = [restype_1to3[r] for r in restypes] + ['UNK'].
inline constexpr std::array<std::string_view, restype_num_with_x> restype_names = {
    "ALA", "ARG", "ASN", "ASP", "CYS", "GLN", "GLU", "GLY", "HIS", "ILE", "LEU",
    "LYS", "MET", "PHE", "PRO", "SER", "THR", "TRP", "TYR", "VAL", "UNK"};

// AlphaFold's restype_order: index of a standard one-letter code, -1 when it is not one of the 20.
constexpr int restype_order(char one_letter) {
  for (int i = 0; i < restype_num; ++i) {
    if (restypes[i] == one_letter) return i;
  }
  return -1;
}
// restype_order_with_x semantics, total: the 20 standard codes map to 0..19, 'X' and anything else to 20.
constexpr int restype_index(char one_letter) {
  const int i = restype_order(one_letter);
  return i < 0 ? unk_restype_index : i;
}
// AlphaFold's resname_to_idx: index of a three-letter name (incl. "UNK" -> 20), -1 when unknown.
constexpr int resname_index(std::string_view three_letter) {
  for (int i = 0; i < restype_num_with_x; ++i) {
    if (restype_names[i] == three_letter) return i;
  }
  return -1;
}
// restype_1to3: "ALA".. for the 20 standard codes, "UNK" for 'X'; throws axf::Error for anything else.
std::string_view restype_1to3(char one_letter);
// restype_3to1: 'A'.. for the 20 standard names, 'X' for "UNK"; throws axf::Error for anything else.
char restype_3to1(std::string_view three_letter);

// =====================================================================================================
// Section 2. Atom encodings: atom37 (fixed slot per atom name) and atom14 (dense, per residue type).
// =====================================================================================================

inline constexpr int atom_type_num = 37;  // len(atom_types)
inline constexpr int atom14_num = 14;     // max heavy atoms of a standard residue

// AlphaFold's atom_types, in atom37 order.
inline constexpr std::array<std::string_view, atom_type_num> atom_types = {
    "N",   "CA",  "C",   "CB",  "O",   "CG",  "CG1", "CG2", "OG",  "OG1", "SG",  "CD",  "CD1",
    "CD2", "ND1", "ND2", "OD1", "OD2", "SD",  "CE",  "CE1", "CE2", "CE3", "NE",  "NE1", "NE2",
    "OE1", "OE2", "CH2", "NH1", "NH2", "OH",  "CZ",  "CZ2", "CZ3", "NZ",  "OXT"};

// AlphaFold's atom_order: atom37 slot of an atom name, -1 when the name is not an atom37 type.
constexpr int atom37_index(std::string_view name) {
  for (int i = 0; i < atom_type_num; ++i) {
    if (atom_types[i] == name) return i;
  }
  return -1;
}

// AlphaFold's restype_name_to_atom14_names, rows in restype order (index 20 = UNK, all empty).
inline constexpr std::array<std::array<std::string_view, atom14_num>, restype_num_with_x>
    restype_name_to_atom14_names = {{
        {"N", "CA", "C", "O", "CB", "", "", "", "", "", "", "", "", ""},                  // ALA
        {"N", "CA", "C", "O", "CB", "CG", "CD", "NE", "CZ", "NH1", "NH2", "", "", ""},    // ARG
        {"N", "CA", "C", "O", "CB", "CG", "OD1", "ND2", "", "", "", "", "", ""},          // ASN
        {"N", "CA", "C", "O", "CB", "CG", "OD1", "OD2", "", "", "", "", "", ""},          // ASP
        {"N", "CA", "C", "O", "CB", "SG", "", "", "", "", "", "", "", ""},                // CYS
        {"N", "CA", "C", "O", "CB", "CG", "CD", "OE1", "NE2", "", "", "", "", ""},        // GLN
        {"N", "CA", "C", "O", "CB", "CG", "CD", "OE1", "OE2", "", "", "", "", ""},        // GLU
        {"N", "CA", "C", "O", "", "", "", "", "", "", "", "", "", ""},                    // GLY
        {"N", "CA", "C", "O", "CB", "CG", "ND1", "CD2", "CE1", "NE2", "", "", "", ""},    // HIS
        {"N", "CA", "C", "O", "CB", "CG1", "CG2", "CD1", "", "", "", "", "", ""},         // ILE
        {"N", "CA", "C", "O", "CB", "CG", "CD1", "CD2", "", "", "", "", "", ""},          // LEU
        {"N", "CA", "C", "O", "CB", "CG", "CD", "CE", "NZ", "", "", "", "", ""},          // LYS
        {"N", "CA", "C", "O", "CB", "CG", "SD", "CE", "", "", "", "", "", ""},            // MET
        {"N", "CA", "C", "O", "CB", "CG", "CD1", "CD2", "CE1", "CE2", "CZ", "", "", ""},  // PHE
        {"N", "CA", "C", "O", "CB", "CG", "CD", "", "", "", "", "", "", ""},              // PRO
        {"N", "CA", "C", "O", "CB", "OG", "", "", "", "", "", "", "", ""},                // SER
        {"N", "CA", "C", "O", "CB", "OG1", "CG2", "", "", "", "", "", "", ""},            // THR
        {"N", "CA", "C", "O", "CB", "CG", "CD1", "CD2", "NE1", "CE2", "CE3", "CZ2", "CZ3", "CH2"},  // TRP
        {"N", "CA", "C", "O", "CB", "CG", "CD1", "CD2", "CE1", "CE2", "CZ", "OH", "", ""},  // TYR
        {"N", "CA", "C", "O", "CB", "CG1", "CG2", "", "", "", "", "", "", ""},            // VAL
        {"", "", "", "", "", "", "", "", "", "", "", "", "", ""},                         // UNK
    }};

// =====================================================================================================
// Section 3. Chi (side-chain torsion) angles. The 7 torsions of a residue are
// [pre_omega, phi, psi, chi1, chi2, chi3, chi4] (supplement Table 2).
// =====================================================================================================

inline constexpr int chi_num = 4;      // chi1..chi4 (ARG chi5 is ignored, as in AlphaFold)
inline constexpr int torsion_num = 7;  // pre_omega, phi, psi, chi1..chi4

using ChiAtomNames = std::array<std::array<std::string_view, 4>, chi_num>;  // [chi][atom], "" where undefined
inline constexpr std::array<std::string_view, 4> kNoChi = {"", "", "", ""};  // filler row for undefined chis

// AlphaFold's chi_angles_atoms: the 4 atoms defining chi1..chi4 per residue type (index 20 = UNK: none).
inline constexpr std::array<ChiAtomNames, restype_num_with_x> chi_angles_atoms = {{
    {{kNoChi, kNoChi, kNoChi, kNoChi}},  // ALA
    {{{"N", "CA", "CB", "CG"}, {"CA", "CB", "CG", "CD"}, {"CB", "CG", "CD", "NE"}, {"CG", "CD", "NE", "CZ"}}},  // ARG
    {{{"N", "CA", "CB", "CG"}, {"CA", "CB", "CG", "OD1"}, kNoChi, kNoChi}},  // ASN
    {{{"N", "CA", "CB", "CG"}, {"CA", "CB", "CG", "OD1"}, kNoChi, kNoChi}},  // ASP
    {{{"N", "CA", "CB", "SG"}, kNoChi, kNoChi, kNoChi}},  // CYS
    {{{"N", "CA", "CB", "CG"}, {"CA", "CB", "CG", "CD"}, {"CB", "CG", "CD", "OE1"}, kNoChi}},  // GLN
    {{{"N", "CA", "CB", "CG"}, {"CA", "CB", "CG", "CD"}, {"CB", "CG", "CD", "OE1"}, kNoChi}},  // GLU
    {{kNoChi, kNoChi, kNoChi, kNoChi}},  // GLY
    {{{"N", "CA", "CB", "CG"}, {"CA", "CB", "CG", "ND1"}, kNoChi, kNoChi}},  // HIS
    {{{"N", "CA", "CB", "CG1"}, {"CA", "CB", "CG1", "CD1"}, kNoChi, kNoChi}},  // ILE
    {{{"N", "CA", "CB", "CG"}, {"CA", "CB", "CG", "CD1"}, kNoChi, kNoChi}},  // LEU
    {{{"N", "CA", "CB", "CG"}, {"CA", "CB", "CG", "CD"}, {"CB", "CG", "CD", "CE"}, {"CG", "CD", "CE", "NZ"}}},  // LYS
    {{{"N", "CA", "CB", "CG"}, {"CA", "CB", "CG", "SD"}, {"CB", "CG", "SD", "CE"}, kNoChi}},  // MET
    {{{"N", "CA", "CB", "CG"}, {"CA", "CB", "CG", "CD1"}, kNoChi, kNoChi}},  // PHE
    {{{"N", "CA", "CB", "CG"}, {"CA", "CB", "CG", "CD"}, kNoChi, kNoChi}},  // PRO
    {{{"N", "CA", "CB", "OG"}, kNoChi, kNoChi, kNoChi}},  // SER
    {{{"N", "CA", "CB", "OG1"}, kNoChi, kNoChi, kNoChi}},  // THR
    {{{"N", "CA", "CB", "CG"}, {"CA", "CB", "CG", "CD1"}, kNoChi, kNoChi}},  // TRP
    {{{"N", "CA", "CB", "CG"}, {"CA", "CB", "CG", "CD1"}, kNoChi, kNoChi}},  // TYR
    {{{"N", "CA", "CB", "CG1"}, kNoChi, kNoChi, kNoChi}},  // VAL
    {{kNoChi, kNoChi, kNoChi, kNoChi}},  // UNK
}};

// AlphaFold's chi_angles_mask (20 rows) plus the all-zero UNK row that all_atom.py appends.
inline constexpr std::array<std::array<float, chi_num>, restype_num_with_x> chi_angles_mask = {{
    {0.f, 0.f, 0.f, 0.f},  // ALA
    {1.f, 1.f, 1.f, 1.f},  // ARG
    {1.f, 1.f, 0.f, 0.f},  // ASN
    {1.f, 1.f, 0.f, 0.f},  // ASP
    {1.f, 0.f, 0.f, 0.f},  // CYS
    {1.f, 1.f, 1.f, 0.f},  // GLN
    {1.f, 1.f, 1.f, 0.f},  // GLU
    {0.f, 0.f, 0.f, 0.f},  // GLY
    {1.f, 1.f, 0.f, 0.f},  // HIS
    {1.f, 1.f, 0.f, 0.f},  // ILE
    {1.f, 1.f, 0.f, 0.f},  // LEU
    {1.f, 1.f, 1.f, 1.f},  // LYS
    {1.f, 1.f, 1.f, 0.f},  // MET
    {1.f, 1.f, 0.f, 0.f},  // PHE
    {1.f, 1.f, 0.f, 0.f},  // PRO
    {1.f, 0.f, 0.f, 0.f},  // SER
    {1.f, 0.f, 0.f, 0.f},  // THR
    {1.f, 1.f, 0.f, 0.f},  // TRP
    {1.f, 1.f, 0.f, 0.f},  // TYR
    {1.f, 0.f, 0.f, 0.f},  // VAL
    {0.f, 0.f, 0.f, 0.f},  // UNK
}};

// AlphaFold's chi_pi_periodic: chis that can be rotated by pi without changing the structure.
inline constexpr std::array<std::array<float, chi_num>, restype_num_with_x> chi_pi_periodic = {{
    {0.f, 0.f, 0.f, 0.f},  // ALA
    {0.f, 0.f, 0.f, 0.f},  // ARG
    {0.f, 0.f, 0.f, 0.f},  // ASN
    {0.f, 1.f, 0.f, 0.f},  // ASP
    {0.f, 0.f, 0.f, 0.f},  // CYS
    {0.f, 0.f, 0.f, 0.f},  // GLN
    {0.f, 0.f, 1.f, 0.f},  // GLU
    {0.f, 0.f, 0.f, 0.f},  // GLY
    {0.f, 0.f, 0.f, 0.f},  // HIS
    {0.f, 0.f, 0.f, 0.f},  // ILE
    {0.f, 0.f, 0.f, 0.f},  // LEU
    {0.f, 0.f, 0.f, 0.f},  // LYS
    {0.f, 0.f, 0.f, 0.f},  // MET
    {0.f, 1.f, 0.f, 0.f},  // PHE
    {0.f, 0.f, 0.f, 0.f},  // PRO
    {0.f, 0.f, 0.f, 0.f},  // SER
    {0.f, 0.f, 0.f, 0.f},  // THR
    {0.f, 0.f, 0.f, 0.f},  // TRP
    {0.f, 1.f, 0.f, 0.f},  // TYR
    {0.f, 0.f, 0.f, 0.f},  // VAL
    {0.f, 0.f, 0.f, 0.f},  // UNK
}};

// Number of chi angles defined for a residue type (0..4; 0 for UNK).
constexpr int chi_count(int restype) {
  int n = 0;
  for (int c = 0; c < chi_num; ++c) n += chi_angles_mask[restype][c] != 0.f ? 1 : 0;
  return n;
}

using ChiAtomIndices = std::array<std::array<int, 4>, chi_num>;  // [chi][atom] atom37 slots

// AlphaFold's all_atom.get_chi_atom_indices() row for one residue type (0..20): atom37 slots of the four
// atoms of each chi; chis not defined on the residue (and every chi of UNK) are [0, 0, 0, 0].
constexpr ChiAtomIndices chi_atom37_indices(int restype) {
  ChiAtomIndices out{};
  if (restype < 0 || restype > unk_restype_index) return out;
  for (int c = 0; c < chi_num; ++c) {
    if (chi_angles_mask[restype][c] == 0.f) continue;
    for (int a = 0; a < 4; ++a) out[c][a] = atom37_index(chi_angles_atoms[restype][c][a]);
  }
  return out;
}

// =====================================================================================================
// Section 4. Rigid-group geometry and stereochemistry (Issue 3): rigid_group_atom_positions,
// restype_rigid_group_default_frame, restype_atom14/37_rigid_group_positions, residue_atoms,
// residue_atom_renaming_swaps, van_der_waals_radius, bond lengths/angles (stereo_chemical_props),
// between-residue bond constants. Add them below this line, one sub-section each, same conventions.
// Tables that need arithmetic beyond constexpr (default frames) or are long (stereo_chemical_props) are defined in
// residue_geometry_tables.cpp; everything else is compile-time data, checked by static_asserts in
// residue_constants.cpp.
// =====================================================================================================

// -----------------------------------------------------------------------------------------------------
// Section 4a. Rigid groups and the literature (ideal) atom positions.
// The 8 rigid groups of a residue: 0 backbone, 1 pre-omega (empty), 2 phi (empty: only hydrogens), 3 psi,
// 4..7 chi1..chi4. AlphaFold's rigid_group_atom_positions: every heavy atom of a residue type with its rigid
// group and its position [Angstrom] relative to the group's frame. The frame's origin is the axis-end atom of
// the group's rotation axis, the x-axis points along that axis, and the atom that defines the dihedral lies in
// the xy-plane with positive y. Backbone frame: CA at the origin, C on the +x axis, N in the xy-plane.
// Rows in restype order (index 20 = UNK: no atoms), entries in AlphaFold's listing order, "" = filler.
// -----------------------------------------------------------------------------------------------------

inline constexpr int rigid_group_num = 8;  // backbone, pre-omega, phi, psi, chi1..chi4

// Distance from one CA to the next CA [trans configuration: omega = 180] (AlphaFold's ca_ca).
inline constexpr double ca_ca = 3.80209737096;

struct RigidGroupAtomPosition {
  std::string_view atom_name;        // "" for filler entries
  int group_idx = 0;                 // 0..7
  std::array<double, 3> position{};  // in the group's frame, Angstrom
};

using RigidGroupAtomList = std::array<RigidGroupAtomPosition, atom14_num>;

// AlphaFold's rigid_group_atom_positions (alphafold/common/residue_constants.py), values as published.
inline constexpr std::array<RigidGroupAtomList, restype_num_with_x> rigid_group_atom_positions = {{
    // ALA
    {{{"N", 0, {-0.525, 1.363, 0.000}},
      {"CA", 0, {0.000, 0.000, 0.000}},
      {"C", 0, {1.526, -0.000, -0.000}},
      {"CB", 0, {-0.529, -0.774, -1.205}},
      {"O", 3, {0.627, 1.062, 0.000}}}},
    // ARG
    {{{"N", 0, {-0.524, 1.362, -0.000}},
      {"CA", 0, {0.000, 0.000, 0.000}},
      {"C", 0, {1.525, -0.000, -0.000}},
      {"CB", 0, {-0.524, -0.778, -1.209}},
      {"O", 3, {0.626, 1.062, 0.000}},
      {"CG", 4, {0.616, 1.390, -0.000}},
      {"CD", 5, {0.564, 1.414, 0.000}},
      {"NE", 6, {0.539, 1.357, -0.000}},
      {"NH1", 7, {0.206, 2.301, 0.000}},
      {"NH2", 7, {2.078, 0.978, -0.000}},
      {"CZ", 7, {0.758, 1.093, -0.000}}}},
    // ASN
    {{{"N", 0, {-0.536, 1.357, 0.000}},
      {"CA", 0, {0.000, 0.000, 0.000}},
      {"C", 0, {1.526, -0.000, -0.000}},
      {"CB", 0, {-0.531, -0.787, -1.200}},
      {"O", 3, {0.625, 1.062, 0.000}},
      {"CG", 4, {0.584, 1.399, 0.000}},
      {"ND2", 5, {0.593, -1.188, 0.001}},
      {"OD1", 5, {0.633, 1.059, 0.000}}}},
    // ASP
    {{{"N", 0, {-0.525, 1.362, -0.000}},
      {"CA", 0, {0.000, 0.000, 0.000}},
      {"C", 0, {1.527, 0.000, -0.000}},
      {"CB", 0, {-0.526, -0.778, -1.208}},
      {"O", 3, {0.626, 1.062, -0.000}},
      {"CG", 4, {0.593, 1.398, -0.000}},
      {"OD1", 5, {0.610, 1.091, 0.000}},
      {"OD2", 5, {0.592, -1.101, -0.003}}}},
    // CYS
    {{{"N", 0, {-0.522, 1.362, -0.000}},
      {"CA", 0, {0.000, 0.000, 0.000}},
      {"C", 0, {1.524, 0.000, 0.000}},
      {"CB", 0, {-0.519, -0.773, -1.212}},
      {"O", 3, {0.625, 1.062, -0.000}},
      {"SG", 4, {0.728, 1.653, 0.000}}}},
    // GLN
    {{{"N", 0, {-0.526, 1.361, -0.000}},
      {"CA", 0, {0.000, 0.000, 0.000}},
      {"C", 0, {1.526, 0.000, 0.000}},
      {"CB", 0, {-0.525, -0.779, -1.207}},
      {"O", 3, {0.626, 1.062, -0.000}},
      {"CG", 4, {0.615, 1.393, 0.000}},
      {"CD", 5, {0.587, 1.399, -0.000}},
      {"NE2", 6, {0.593, -1.189, -0.001}},
      {"OE1", 6, {0.634, 1.060, 0.000}}}},
    // GLU
    {{{"N", 0, {-0.528, 1.361, 0.000}},
      {"CA", 0, {0.000, 0.000, 0.000}},
      {"C", 0, {1.526, -0.000, -0.000}},
      {"CB", 0, {-0.526, -0.781, -1.207}},
      {"O", 3, {0.626, 1.062, 0.000}},
      {"CG", 4, {0.615, 1.392, 0.000}},
      {"CD", 5, {0.600, 1.397, 0.000}},
      {"OE1", 6, {0.607, 1.095, -0.000}},
      {"OE2", 6, {0.589, -1.104, -0.001}}}},
    // GLY
    {{{"N", 0, {-0.572, 1.337, 0.000}},
      {"CA", 0, {0.000, 0.000, 0.000}},
      {"C", 0, {1.517, -0.000, -0.000}},
      {"O", 3, {0.626, 1.062, -0.000}}}},
    // HIS
    {{{"N", 0, {-0.527, 1.360, 0.000}},
      {"CA", 0, {0.000, 0.000, 0.000}},
      {"C", 0, {1.525, 0.000, 0.000}},
      {"CB", 0, {-0.525, -0.778, -1.208}},
      {"O", 3, {0.625, 1.063, 0.000}},
      {"CG", 4, {0.600, 1.370, -0.000}},
      {"CD2", 5, {0.889, -1.021, 0.003}},
      {"ND1", 5, {0.744, 1.160, -0.000}},
      {"CE1", 5, {2.030, 0.851, 0.002}},
      {"NE2", 5, {2.145, -0.466, 0.004}}}},
    // ILE
    {{{"N", 0, {-0.493, 1.373, -0.000}},
      {"CA", 0, {0.000, 0.000, 0.000}},
      {"C", 0, {1.527, -0.000, -0.000}},
      {"CB", 0, {-0.536, -0.793, -1.213}},
      {"O", 3, {0.627, 1.062, -0.000}},
      {"CG1", 4, {0.534, 1.437, -0.000}},
      {"CG2", 4, {0.540, -0.785, -1.199}},
      {"CD1", 5, {0.619, 1.391, 0.000}}}},
    // LEU
    {{{"N", 0, {-0.520, 1.363, 0.000}},
      {"CA", 0, {0.000, 0.000, 0.000}},
      {"C", 0, {1.525, -0.000, -0.000}},
      {"CB", 0, {-0.522, -0.773, -1.214}},
      {"O", 3, {0.625, 1.063, -0.000}},
      {"CG", 4, {0.678, 1.371, 0.000}},
      {"CD1", 5, {0.530, 1.430, -0.000}},
      {"CD2", 5, {0.535, -0.774, 1.200}}}},
    // LYS
    {{{"N", 0, {-0.526, 1.362, -0.000}},
      {"CA", 0, {0.000, 0.000, 0.000}},
      {"C", 0, {1.526, 0.000, 0.000}},
      {"CB", 0, {-0.524, -0.778, -1.208}},
      {"O", 3, {0.626, 1.062, -0.000}},
      {"CG", 4, {0.619, 1.390, 0.000}},
      {"CD", 5, {0.559, 1.417, 0.000}},
      {"CE", 6, {0.560, 1.416, 0.000}},
      {"NZ", 7, {0.554, 1.387, 0.000}}}},
    // MET
    {{{"N", 0, {-0.521, 1.364, -0.000}},
      {"CA", 0, {0.000, 0.000, 0.000}},
      {"C", 0, {1.525, 0.000, 0.000}},
      {"CB", 0, {-0.523, -0.776, -1.210}},
      {"O", 3, {0.625, 1.062, -0.000}},
      {"CG", 4, {0.613, 1.391, -0.000}},
      {"SD", 5, {0.703, 1.695, 0.000}},
      {"CE", 6, {0.320, 1.786, -0.000}}}},
    // PHE
    {{{"N", 0, {-0.518, 1.363, 0.000}},
      {"CA", 0, {0.000, 0.000, 0.000}},
      {"C", 0, {1.524, 0.000, -0.000}},
      {"CB", 0, {-0.525, -0.776, -1.212}},
      {"O", 3, {0.626, 1.062, -0.000}},
      {"CG", 4, {0.607, 1.377, 0.000}},
      {"CD1", 5, {0.709, 1.195, -0.000}},
      {"CD2", 5, {0.706, -1.196, 0.000}},
      {"CE1", 5, {2.102, 1.198, -0.000}},
      {"CE2", 5, {2.098, -1.201, -0.000}},
      {"CZ", 5, {2.794, -0.003, -0.001}}}},
    // PRO (AlphaFold: CD "manually made angle 2 degrees larger"; the original was (0.427, 1.440, 0.0))
    {{{"N", 0, {-0.566, 1.351, -0.000}},
      {"CA", 0, {0.000, 0.000, 0.000}},
      {"C", 0, {1.527, -0.000, 0.000}},
      {"CB", 0, {-0.546, -0.611, -1.293}},
      {"O", 3, {0.621, 1.066, 0.000}},
      {"CG", 4, {0.382, 1.445, 0.0}},
      {"CD", 5, {0.477, 1.424, 0.0}}}},
    // SER
    {{{"N", 0, {-0.529, 1.360, -0.000}},
      {"CA", 0, {0.000, 0.000, 0.000}},
      {"C", 0, {1.525, -0.000, -0.000}},
      {"CB", 0, {-0.518, -0.777, -1.211}},
      {"O", 3, {0.626, 1.062, -0.000}},
      {"OG", 4, {0.503, 1.325, 0.000}}}},
    // THR
    {{{"N", 0, {-0.517, 1.364, 0.000}},
      {"CA", 0, {0.000, 0.000, 0.000}},
      {"C", 0, {1.526, 0.000, -0.000}},
      {"CB", 0, {-0.516, -0.793, -1.215}},
      {"O", 3, {0.626, 1.062, 0.000}},
      {"CG2", 4, {0.550, -0.718, -1.228}},
      {"OG1", 4, {0.472, 1.353, 0.000}}}},
    // TRP
    {{{"N", 0, {-0.521, 1.363, 0.000}},
      {"CA", 0, {0.000, 0.000, 0.000}},
      {"C", 0, {1.525, -0.000, 0.000}},
      {"CB", 0, {-0.523, -0.776, -1.212}},
      {"O", 3, {0.627, 1.062, 0.000}},
      {"CG", 4, {0.609, 1.370, -0.000}},
      {"CD1", 5, {0.824, 1.091, 0.000}},
      {"CD2", 5, {0.854, -1.148, -0.005}},
      {"CE2", 5, {2.186, -0.678, -0.007}},
      {"CE3", 5, {0.622, -2.530, -0.007}},
      {"NE1", 5, {2.140, 0.690, -0.004}},
      {"CH2", 5, {3.028, -2.890, -0.013}},
      {"CZ2", 5, {3.283, -1.543, -0.011}},
      {"CZ3", 5, {1.715, -3.389, -0.011}}}},
    // TYR
    {{{"N", 0, {-0.522, 1.362, 0.000}},
      {"CA", 0, {0.000, 0.000, 0.000}},
      {"C", 0, {1.524, -0.000, -0.000}},
      {"CB", 0, {-0.522, -0.776, -1.213}},
      {"O", 3, {0.627, 1.062, -0.000}},
      {"CG", 4, {0.607, 1.382, -0.000}},
      {"CD1", 5, {0.716, 1.195, -0.000}},
      {"CD2", 5, {0.713, -1.194, -0.001}},
      {"CE1", 5, {2.107, 1.200, -0.002}},
      {"CE2", 5, {2.104, -1.201, -0.003}},
      {"OH", 5, {4.168, -0.002, -0.005}},
      {"CZ", 5, {2.791, -0.001, -0.003}}}},
    // VAL
    {{{"N", 0, {-0.494, 1.373, -0.000}},
      {"CA", 0, {0.000, 0.000, 0.000}},
      {"C", 0, {1.527, -0.000, -0.000}},
      {"CB", 0, {-0.533, -0.795, -1.213}},
      {"O", 3, {0.627, 1.062, -0.000}},
      {"CG1", 4, {0.540, 1.429, -0.000}},
      {"CG2", 4, {0.533, -0.776, 1.203}}}},
    // UNK: no atoms
    {{}},
}};

// Number of (non-filler) entries of rigid_group_atom_positions[restype].
constexpr int rigid_group_atom_count(int restype) {
  int n = 0;
  for (const RigidGroupAtomPosition& a : rigid_group_atom_positions[restype]) n += a.atom_name.empty() ? 0 : 1;
  return n;
}

// Ideal position of a named atom of a residue type in its rigid group's frame; nullptr when absent.
constexpr const RigidGroupAtomPosition* find_rigid_group_atom(int restype, std::string_view atom_name) {
  if (restype < 0 || restype >= restype_num_with_x || atom_name.empty()) return nullptr;
  for (const RigidGroupAtomPosition& a : rigid_group_atom_positions[restype]) {
    if (a.atom_name == atom_name) return &a;
  }
  return nullptr;
}

// -----------------------------------------------------------------------------------------------------
// Section 4b. residue_atoms (heavy atoms per residue type, AlphaFold's listing order) and the naming swaps of
// the 4 residues with symmetric side chains (residue_atom_renaming_swaps). Rows in restype order; UNK empty.
// -----------------------------------------------------------------------------------------------------

inline constexpr std::array<std::array<std::string_view, atom14_num>, restype_num_with_x> residue_atoms = {{
    {"C", "CA", "CB", "N", "O", "", "", "", "", "", "", "", "", ""},  // ALA
    {"C", "CA", "CB", "CG", "CD", "CZ", "N", "NE", "O", "NH1", "NH2", "", "", ""},  // ARG
    {"C", "CA", "CB", "CG", "N", "ND2", "O", "OD1", "", "", "", "", "", ""},  // ASN
    {"C", "CA", "CB", "CG", "N", "O", "OD1", "OD2", "", "", "", "", "", ""},  // ASP
    {"C", "CA", "CB", "N", "O", "SG", "", "", "", "", "", "", "", ""},  // CYS
    {"C", "CA", "CB", "CG", "CD", "N", "NE2", "O", "OE1", "", "", "", "", ""},  // GLN
    {"C", "CA", "CB", "CG", "CD", "N", "O", "OE1", "OE2", "", "", "", "", ""},  // GLU
    {"C", "CA", "N", "O", "", "", "", "", "", "", "", "", "", ""},  // GLY
    {"C", "CA", "CB", "CG", "CD2", "CE1", "N", "ND1", "NE2", "O", "", "", "", ""},  // HIS
    {"C", "CA", "CB", "CG1", "CG2", "CD1", "N", "O", "", "", "", "", "", ""},  // ILE
    {"C", "CA", "CB", "CG", "CD1", "CD2", "N", "O", "", "", "", "", "", ""},  // LEU
    {"C", "CA", "CB", "CG", "CD", "CE", "N", "NZ", "O", "", "", "", "", ""},  // LYS
    {"C", "CA", "CB", "CG", "CE", "N", "O", "SD", "", "", "", "", "", ""},  // MET
    {"C", "CA", "CB", "CG", "CD1", "CD2", "CE1", "CE2", "CZ", "N", "O", "", "", ""},  // PHE
    {"C", "CA", "CB", "CG", "CD", "N", "O", "", "", "", "", "", "", ""},  // PRO
    {"C", "CA", "CB", "N", "O", "OG", "", "", "", "", "", "", "", ""},  // SER
    {"C", "CA", "CB", "CG2", "N", "O", "OG1", "", "", "", "", "", "", ""},  // THR
    {"C", "CA", "CB", "CG", "CD1", "CD2", "CE2", "CE3", "CZ2", "CZ3", "CH2", "N", "NE1", "O"},  // TRP
    {"C", "CA", "CB", "CG", "CD1", "CD2", "CE1", "CE2", "CZ", "N", "O", "OH", "", ""},  // TYR
    {"C", "CA", "CB", "CG1", "CG2", "N", "O", "", "", "", "", "", "", ""},  // VAL
    {"", "", "", "", "", "", "", "", "", "", "", "", "", ""},  // UNK
}};

struct AtomRenamingSwap {
  std::string_view resname;
  int num_pairs = 0;
  std::array<std::array<std::string_view, 2>, 2> pairs{};  // (atom, swapped-with atom)
};

// AlphaFold's residue_atom_renaming_swaps.
inline constexpr std::array<AtomRenamingSwap, 4> residue_atom_renaming_swaps = {{
    {"ASP", 1, {{{"OD1", "OD2"}, {"", ""}}}},
    {"GLU", 1, {{{"OE1", "OE2"}, {"", ""}}}},
    {"PHE", 2, {{{"CD1", "CD2"}, {"CE1", "CE2"}}}},
    {"TYR", 2, {{{"CD1", "CD2"}, {"CE1", "CE2"}}}},
}};

// -----------------------------------------------------------------------------------------------------
// Section 4c. Tables derived from rigid_group_atom_positions (AlphaFold's _make_rigid_group_constants) and the
// atom14 <-> atom37 index maps (AlphaFold's data_transforms.make_atom14_masks). Row 20 (UNK) is all zeros,
// as in AlphaFold. Index maps use 0 where the atom does not exist (the masks tell).
// -----------------------------------------------------------------------------------------------------

template <typename T>
using RestypeAtom14Table = std::array<std::array<T, atom14_num>, restype_num_with_x>;
template <typename T>
using RestypeAtom37Table = std::array<std::array<T, atom_type_num>, restype_num_with_x>;

// atom14 slot of an atom name in a residue type, -1 when absent (also for "" and UNK).
constexpr int atom14_index(int restype, std::string_view name) {
  if (restype < 0 || restype >= restype_num_with_x || name.empty()) return -1;
  for (int i = 0; i < atom14_num; ++i) {
    if (restype_name_to_atom14_names[restype][i] == name) return i;
  }
  return -1;
}

inline constexpr RestypeAtom14Table<int> restype_atom14_to_rigid_group = [] {
  RestypeAtom14Table<int> t{};
  for (int r = 0; r < restype_num; ++r) {
    for (const RigidGroupAtomPosition& a : rigid_group_atom_positions[r]) {
      if (!a.atom_name.empty()) t[r][atom14_index(r, a.atom_name)] = a.group_idx;
    }
  }
  return t;
}();

inline constexpr RestypeAtom14Table<float> restype_atom14_mask = [] {
  RestypeAtom14Table<float> t{};
  for (int r = 0; r < restype_num; ++r) {
    for (const RigidGroupAtomPosition& a : rigid_group_atom_positions[r]) {
      if (!a.atom_name.empty()) t[r][atom14_index(r, a.atom_name)] = 1.f;
    }
  }
  return t;
}();

inline constexpr RestypeAtom14Table<std::array<float, 3>> restype_atom14_rigid_group_positions = [] {
  RestypeAtom14Table<std::array<float, 3>> t{};
  for (int r = 0; r < restype_num; ++r) {
    for (const RigidGroupAtomPosition& a : rigid_group_atom_positions[r]) {
      if (a.atom_name.empty()) continue;
      for (int k = 0; k < 3; ++k) t[r][atom14_index(r, a.atom_name)][k] = static_cast<float>(a.position[k]);
    }
  }
  return t;
}();

inline constexpr RestypeAtom37Table<int> restype_atom37_to_rigid_group = [] {
  RestypeAtom37Table<int> t{};
  for (int r = 0; r < restype_num; ++r) {
    for (const RigidGroupAtomPosition& a : rigid_group_atom_positions[r]) {
      if (!a.atom_name.empty()) t[r][atom37_index(a.atom_name)] = a.group_idx;
    }
  }
  return t;
}();

inline constexpr RestypeAtom37Table<float> restype_atom37_mask = [] {
  RestypeAtom37Table<float> t{};
  for (int r = 0; r < restype_num; ++r) {
    for (const RigidGroupAtomPosition& a : rigid_group_atom_positions[r]) {
      if (!a.atom_name.empty()) t[r][atom37_index(a.atom_name)] = 1.f;
    }
  }
  return t;
}();

inline constexpr RestypeAtom37Table<std::array<float, 3>> restype_atom37_rigid_group_positions = [] {
  RestypeAtom37Table<std::array<float, 3>> t{};
  for (int r = 0; r < restype_num; ++r) {
    for (const RigidGroupAtomPosition& a : rigid_group_atom_positions[r]) {
      if (a.atom_name.empty()) continue;
      for (int k = 0; k < 3; ++k) t[r][atom37_index(a.atom_name)][k] = static_cast<float>(a.position[k]);
    }
  }
  return t;
}();

// make_atom14_masks: (restype, atom14 slot) -> atom37 slot, 0 for empty slots.
inline constexpr RestypeAtom14Table<int> restype_atom14_to_atom37 = [] {
  RestypeAtom14Table<int> t{};
  for (int r = 0; r < restype_num; ++r) {
    for (int i = 0; i < atom14_num; ++i) {
      const std::string_view name = restype_name_to_atom14_names[r][i];
      t[r][i] = name.empty() ? 0 : atom37_index(name);
    }
  }
  return t;
}();

// make_atom14_masks: (restype, atom37 slot) -> atom14 slot, 0 where the residue lacks the atom.
inline constexpr RestypeAtom37Table<int> restype_atom37_to_atom14 = [] {
  RestypeAtom37Table<int> t{};
  for (int r = 0; r < restype_num; ++r) {
    for (int j = 0; j < atom_type_num; ++j) {
      const int i = atom14_index(r, atom_types[j]);
      t[r][j] = i < 0 ? 0 : i;
    }
  }
  return t;
}();

// make_atom14_masks' atom37_atom_exists table, built from residue_atoms (equal to restype_atom37_mask).
inline constexpr RestypeAtom37Table<float> restype_atom37_exists = [] {
  RestypeAtom37Table<float> t{};
  for (int r = 0; r < restype_num; ++r) {
    for (const std::string_view name : residue_atoms[r]) {
      if (!name.empty()) t[r][atom37_index(name)] = 1.f;
    }
  }
  return t;
}();

// -----------------------------------------------------------------------------------------------------
// Section 4d. Default frames of the rigid groups (AlphaFold's restype_rigid_group_default_frame [21, 8, 4, 4]):
// the homogeneous transform (row-major 4x4, [R | t; 0 0 0 1]) from each group's frame to its parent frame
// at zero torsion: groups 0..4 (backbone, pre-omega, phi, psi, chi1) map to the backbone frame; chi2..chi4 map
// to the previous chi frame. Computed in double from rigid_group_atom_positions exactly as AlphaFold's
// _make_rigid_group_constants (Gram-Schmidt of _make_rigid_transformation_4x4), stored as float32:
//   0 backbone, 1 pre-omega: identity;
//   2 phi:  ex = N - CA, ey = (1, 0, 0), t = N;
//   3 psi:  ex = C - CA, ey = CA - N, t = C;
//   4 chi1: ex = a2 - a1, ey = a0 - a1, t = a2 (a0..a2 = first three chi1 atoms, backbone-frame positions);
//   5..7 chi2..chi4 (only where chi_angles_mask is set): with p = position of the chi's third atom in the
//        previous chi frame: ex = p, ey = (-1, 0, 0), t = p.
// Undefined chi groups, and every group of UNK (row 20), are all-zero matrices, as in AlphaFold.
// -----------------------------------------------------------------------------------------------------

using RigidTransform4x4 = std::array<std::array<float, 4>, 4>;
using RestypeRigidGroupFrames = std::array<std::array<RigidTransform4x4, rigid_group_num>, restype_num_with_x>;

const RestypeRigidGroupFrames& restype_rigid_group_default_frame();

// -----------------------------------------------------------------------------------------------------
// Section 4e. Van der Waals radii and between-residue (peptide bond) geometry.
// -----------------------------------------------------------------------------------------------------

struct ElementRadius {
  char element;
  double radius;  // Angstrom
};

// AlphaFold's van_der_waals_radius, keyed by element (first letter of the atom name).
inline constexpr std::array<ElementRadius, 4> van_der_waals_radii = {
    {{'C', 1.7}, {'N', 1.55}, {'O', 1.52}, {'S', 1.8}}};

// Radius of an element ('C', 'N', 'O', 'S'); 0 for any other element.
constexpr double van_der_waals_radius(char element) {
  for (const ElementRadius& e : van_der_waals_radii) {
    if (e.element == element) return e.radius;
  }
  return 0.0;
}

// Between-residue C-N bond length and stddev: [0] general, [1] when the next residue is proline.
inline constexpr std::array<double, 2> between_res_bond_length_c_n = {1.329, 1.341};
inline constexpr std::array<double, 2> between_res_bond_length_stddev_c_n = {0.014, 0.016};
// Between-residue bond angles as {cos(angle), stddev}: C-N-CA 121.352 +- 2.315 deg, CA-C-N 116.568 +- 1.995 deg.
inline constexpr std::array<double, 2> between_res_cos_angles_c_n_ca = {-0.5203, 0.0353};
inline constexpr std::array<double, 2> between_res_cos_angles_ca_c_n = {-0.4473, 0.0311};

// -----------------------------------------------------------------------------------------------------
// Section 4f. Intra-residue bond lengths and bond angles of AlphaFold's stereo_chemical_props.txt (Engh & Huber
// literature values), all entries in the file's order. AlphaFold's load_stereo_chemical_props() converts
// angles to radians; here they are kept in degrees as in the file (angle_rad() converts). UNK has none.
// -----------------------------------------------------------------------------------------------------

struct StereoBond {
  std::string_view resname;
  std::string_view atom1, atom2;
  double length;  // Angstrom
  double stddev;
};

struct StereoBondAngle {
  std::string_view resname;
  std::string_view atom1, atom2, atom3;  // atom2 is the vertex
  double angle_deg;
  double stddev_deg;
  double angle_rad() const { return angle_deg / 180.0 * 3.14159265358979323846; }
  double stddev_rad() const { return stddev_deg / 180.0 * 3.14159265358979323846; }
};

// The whole "Bond" and "Angle" sections of stereo_chemical_props.txt.
std::span<const StereoBond> stereo_chemical_bonds();
std::span<const StereoBondAngle> stereo_chemical_bond_angles();
// The entries of one residue (three-letter name; empty for "UNK" and unknown names), in file order.
std::vector<StereoBond> residue_bonds(std::string_view resname);
std::vector<StereoBondAngle> residue_bond_angles(std::string_view resname);

}  // namespace axf::model
