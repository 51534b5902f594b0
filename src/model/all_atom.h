// All-atom geometry of the structure module (Suppl. 1.8.3-1.8.5, Alg. 24 "computeAllAtomCoordinates"; AlphaFold
// all_atom.py): backbone frames + 7 torsion angles -> 8 rigid-group frames per residue -> atom14 coordinates
// from the literature (ideal) positions -> atom37. Host arrays, row-major, lengths in Angstrom.
//   rotations [L, 3, 3] (row-major R, x_global = R x_local + t), translations [L, 3], angles_sin_cos [L, 7, 2]
//   (order: pre-omega, phi, psi, chi1..chi4; (sin, cos)), group frames [L, 8, 3, 3] / [L, 8, 3],
//   atom14 [L, 14, 3], atom37 [L, 37, 3]. aatype values > 20 are treated as 20 (unknown).
#pragma once

#include <cstdint>

namespace axf::model {

// AlphaFold all_atom.torsion_angles_to_frames: the 8 rigid groups (backbone, pre-omega, phi, psi, chi1..chi4)
// of every residue in global coordinates.
void torsion_angles_to_frames(int64_t num_res, const int32_t* aatype, const float* rotations, const float* translations,
                              const float* angles_sin_cos, float* group_rotations, float* group_translations);

// AlphaFold all_atom.frames_and_literature_positions_to_atom14_pos: atom14 coordinates (zero where the atom does
// not exist for the residue type) and the atom14 existence mask [L, 14].
void frames_to_atom14_positions(int64_t num_res, const int32_t* aatype, const float* group_rotations,
                                const float* group_translations, float* atom14_positions, float* atom14_mask);

// AlphaFold atom14_to_atom37 with the residx_atom37_to_atom14 tables: atom37 coordinates and mask [L, 37].
void atom14_to_atom37(int64_t num_res, const int32_t* aatype, const float* atom14_positions, float* atom37_positions,
                      float* atom37_mask);

// Existence masks of the residue types (AlphaFold restype_atom14_mask / restype_atom37_mask): [L, 14] and [L, 37].
void atom14_exists(int64_t num_res, const int32_t* aatype, float* mask);
void atom37_exists(int64_t num_res, const int32_t* aatype, float* mask);

}  // namespace axf::model
