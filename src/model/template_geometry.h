// Template geometry features from atom37 coordinates (Suppl. Alg. 2 lines 7-8 template torsion features, Alg. 21
// rigidFrom3Points; AlphaFold: all_atom.atom37_to_torsion_angles, modules.pseudo_beta_fn). Row-major float, T x L.
#pragma once

#include <cstdint>

namespace axf::model {

// AlphaFold all_atom.atom37_to_torsion_angles with placeholder_for_undefined=False (AF's inference setting,
// zero_init=True), evaluated in float32 with AlphaFold's operation order (r3.rigids_from_3_points, invert, apply).
// Torsions per residue, in order: [pre_omega, phi, psi, chi1, chi2, chi3, chi4].
//   aatype   [T*L]      int32 residue types (values > 20 are clipped to 20 = UNK as AF does; negative -> axf::Error)
//   positions[T,L,37,3] atom37 coordinates; mask [T,L,37] atom37 mask
//   sin_cos      [T,L,7,2] (sin, cos); psi mirrored (computed from O, then multiplied by -1)
//   alt_sin_cos  [T,L,7,2] sin_cos with pi-periodic chis shifted by pi (multiplied by 1 - 2*chi_pi_periodic)
//   torsion_mask [T,L,7]   product of the defining atoms' masks; chis also times chi_angles_mask[aatype]
// As in AlphaFold, sin_cos/alt_sin_cos are NOT multiplied by torsion_mask: undefined torsions keep whatever the
// (padded/zero) coordinates give, e.g. exactly (0, 0) when the four defining points coincide. Residue 0's
// previous-residue atoms are zeros with mask 0.
void atom37_to_torsion_angles(int64_t num_templates, int64_t num_res, const int32_t* aatype, const float* positions,
                              const float* mask, float* sin_cos, float* alt_sin_cos, float* torsion_mask);

// AlphaFold pseudo_beta_fn: CB position, or CA for glycine (aatype == 7), for n residues.
//   aatype [N] int32, positions [N,37,3], mask [N,37] (may be null -> no mask output)
//   pseudo_beta [N,3]; pseudo_beta_mask [N] (required when mask is given, ignored otherwise)
void pseudo_beta(int64_t n, const int32_t* aatype, const float* positions, const float* mask, float* pseudo_beta,
                 float* pseudo_beta_mask);

}  // namespace axf::model
