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
