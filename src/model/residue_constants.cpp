// AlphaFold2 residue constants: non-constexpr lookups and compile-time consistency checks of the tables.
#include "model/residue_constants.h"

#include "core/error.h"

namespace axf::model {

namespace {

// Every chi atom of a residue is an atom37 type and one of that residue's atom14 atoms.
constexpr bool chi_atoms_consistent() {
  for (int r = 0; r < restype_num_with_x; ++r) {
    for (int c = 0; c < chi_num; ++c) {
      const bool defined = chi_angles_mask[r][c] != 0.f;
      for (int a = 0; a < 4; ++a) {
        const std::string_view name = chi_angles_atoms[r][c][a];
        if (!defined) {
          if (!name.empty()) return false;
          continue;
        }
        if (atom37_index(name) < 0) return false;
        bool found = false;
        for (const std::string_view n : restype_name_to_atom14_names[r]) found = found || n == name;
        if (!found) return false;
      }
    }
  }
  return true;
}

// Every non-empty atom14 name is an atom37 type; chi_pi_periodic only where a chi exists.
constexpr bool atom14_and_periodic_consistent() {
  for (int r = 0; r < restype_num_with_x; ++r) {
    for (const std::string_view n : restype_name_to_atom14_names[r]) {
      if (!n.empty() && atom37_index(n) < 0) return false;
    }
    for (int c = 0; c < chi_num; ++c) {
      if (chi_pi_periodic[r][c] != 0.f && chi_angles_mask[r][c] == 0.f) return false;
    }
  }
  return true;
}

// chi_angles_mask is a prefix mask (chi1..chik) for each residue.
constexpr bool chi_mask_is_prefix() {
  for (int r = 0; r < restype_num_with_x; ++r) {
    for (int c = 1; c < chi_num; ++c) {
      if (chi_angles_mask[r][c] != 0.f && chi_angles_mask[r][c - 1] == 0.f) return false;
    }
  }
  return true;
}

// Section 4: every rigid-group atom is one of the residue's atom14 atoms (and vice versa), in a valid group that
// exists for the residue (psi group for O, chi k group only when chi k is defined); residue_atoms lists the same
// atoms; the backbone atoms N, CA, C sit in the backbone group with CA at the origin.
constexpr bool rigid_group_atoms_consistent() {
  for (int r = 0; r < restype_num_with_x; ++r) {
    int atom14_count = 0, residue_atom_count = 0;
    for (const std::string_view n : restype_name_to_atom14_names[r]) atom14_count += n.empty() ? 0 : 1;
    for (const std::string_view n : residue_atoms[r]) {
      if (n.empty()) continue;
      ++residue_atom_count;
      if (atom14_index(r, n) < 0) return false;
    }
    if (rigid_group_atom_count(r) != atom14_count || residue_atom_count != atom14_count) return false;
    for (const RigidGroupAtomPosition& a : rigid_group_atom_positions[r]) {
      if (a.atom_name.empty()) continue;
      if (atom14_index(r, a.atom_name) < 0 || atom37_index(a.atom_name) < 0) return false;
      if (a.group_idx < 0 || a.group_idx >= rigid_group_num || a.group_idx == 1 || a.group_idx == 2) return false;
      if (a.group_idx >= 4 && chi_angles_mask[r][a.group_idx - 4] == 0.f) return false;
      const bool backbone = a.atom_name == "N" || a.atom_name == "CA" || a.atom_name == "C";
      if (backbone != (a.group_idx == 0 && a.atom_name != "CB")) return false;
    }
    if (r < restype_num) {
      bool ca_at_origin = false, o_in_psi_group = false;
      for (const RigidGroupAtomPosition& a : rigid_group_atom_positions[r]) {
        if (a.atom_name == "CA") {
          ca_at_origin = a.position[0] == 0.0 && a.position[1] == 0.0 && a.position[2] == 0.0;
        }
        if (a.atom_name == "O") o_in_psi_group = a.group_idx == 3;
      }
      if (!ca_at_origin || !o_in_psi_group) return false;
    }
  }
  return true;
}

// The two atom37 existence tables of AlphaFold (from rigid_group_atom_positions and from residue_atoms) agree, and
// the atom14 <-> atom37 maps are inverse on existing atoms.
constexpr bool atom_maps_consistent() {
  for (int r = 0; r < restype_num_with_x; ++r) {
    for (int j = 0; j < atom_type_num; ++j) {
      if (restype_atom37_mask[r][j] != restype_atom37_exists[r][j]) return false;
      if (restype_atom37_exists[r][j] != 0.f && restype_atom14_to_atom37[r][restype_atom37_to_atom14[r][j]] != j) {
        return false;
      }
    }
    for (int i = 0; i < atom14_num; ++i) {
      if (restype_atom14_mask[r][i] != 0.f && restype_atom37_to_atom14[r][restype_atom14_to_atom37[r][i]] != i) {
        return false;
      }
    }
  }
  return true;
}

static_assert(rigid_group_atoms_consistent(), "rigid_group_atom_positions disagrees with the atom14 names");
static_assert(atom_maps_consistent(), "atom14/atom37 maps or masks inconsistent");

static_assert(chi_atoms_consistent(), "chi_angles_atoms disagrees with chi_angles_mask / atom14 names");
static_assert(atom14_and_periodic_consistent(), "atom14 names or chi_pi_periodic inconsistent");
static_assert(chi_mask_is_prefix(), "chi_angles_mask must be a prefix mask");
static_assert(atom37_index("N") == 0 && atom37_index("CA") == 1 && atom37_index("C") == 2 &&
                  atom37_index("CB") == 3 && atom37_index("O") == 4 && atom37_index("OXT") == 36,
              "atom37 order");
static_assert(restype_order('G') == 7 && restype_index('X') == unk_restype_index, "restype order");

}  // namespace

std::string_view restype_1to3(char one_letter) {
  if (one_letter == 'X') return restype_names[unk_restype_index];
  const int i = restype_order(one_letter);
  AXF_CHECK(i >= 0, "restype_1to3: unknown one-letter residue code '", one_letter, "'");
  return restype_names[i];
}

char restype_3to1(std::string_view three_letter) {
  const int i = resname_index(three_letter);
  AXF_CHECK(i >= 0, "restype_3to1: unknown three-letter residue name '", three_letter, "'");
  return restypes_with_x[i];
}

}  // namespace axf::model
