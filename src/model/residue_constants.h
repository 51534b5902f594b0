// AlphaFold2 residue constants as compile-time data (AlphaFold source: alphafold/common/residue_constants.py; Suppl.
// Table 2 torsions/rigid groups): residue types [21], atom37 names [37], atom14 names [21][14], chi tables [21][4].
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

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
// Section 4 (reserved). Rigid-group geometry and stereochemistry (Issue 3): rigid_group_atom_positions,
// restype_rigid_group_default_frame, restype_atom14/37_rigid_group_positions, residue_atoms,
// residue_atom_renaming_swaps, van_der_waals_radius, bond lengths/angles (stereo_chemical_props),
// between-residue bond constants. Add them below this line, one sub-section each, same conventions.
// =====================================================================================================

}  // namespace axf::model
