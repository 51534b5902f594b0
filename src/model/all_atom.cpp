// All-atom geometry of the structure module (AlphaFold all_atom.py; Suppl. Alg. 24, 25), float32 in the operation
// order of AlphaFold's r3 module: rigid group frames from torsions, literature atom positions -> atom14 -> atom37.
#include "model/all_atom.h"

#include <array>

#include "core/error.h"
#include "model/residue_constants.h"

namespace axf::model {

namespace {

// r3.Rigids: rotation (row-major: xx xy xz / yx yy yz / zx zy zz) and translation.
struct Rigid {
  std::array<float, 9> rot;
  std::array<float, 3> trans;
};

// r3.rots_mul_vecs: m v, each component summed as m_i0 x + m_i1 y + m_i2 z.
std::array<float, 3> rot_mul_vec(const std::array<float, 9>& m, const std::array<float, 3>& v) {
  return {m[0] * v[0] + m[1] * v[1] + m[2] * v[2], m[3] * v[0] + m[4] * v[1] + m[5] * v[2],
          m[6] * v[0] + m[7] * v[1] + m[8] * v[2]};
}

// r3.rots_mul_rots: column j of a b is a applied to column j of b.
std::array<float, 9> rot_mul_rot(const std::array<float, 9>& a, const std::array<float, 9>& b) {
  std::array<float, 9> out;
  for (int j = 0; j < 3; ++j) {
    const std::array<float, 3> col = rot_mul_vec(a, {b[j], b[3 + j], b[6 + j]});
    out[j] = col[0];
    out[3 + j] = col[1];
    out[6 + j] = col[2];
  }
  return out;
}

// r3.rigids_mul_rigids: (a.rot b.rot, a.trans + a.rot b.trans).
Rigid compose(const Rigid& a, const Rigid& b) {
  const std::array<float, 3> rt = rot_mul_vec(a.rot, b.trans);
  return {rot_mul_rot(a.rot, b.rot), {a.trans[0] + rt[0], a.trans[1] + rt[1], a.trans[2] + rt[2]}};
}

// AlphaFold's aatype handling: values > 20 are the unknown type; negative values are an error.
int restype_of(const int32_t* aatype, int64_t i, const char* fn) {
  const int32_t a = aatype[i];
  AXF_CHECK(a >= 0, fn, ": negative aatype ", a, " at residue ", i);
  return a > unk_restype_index ? unk_restype_index : static_cast<int>(a);
}

}  // namespace

void torsion_angles_to_frames(int64_t num_res, const int32_t* aatype, const float* rotations, const float* translations,
                              const float* angles_sin_cos, float* group_rotations, float* group_translations) {
  AXF_CHECK(num_res >= 0, "torsion_angles_to_frames: negative num_res ", num_res);
  if (num_res == 0) return;
  AXF_CHECK(aatype && rotations && translations && angles_sin_cos && group_rotations && group_translations,
            "torsion_angles_to_frames: null array");
  const RestypeRigidGroupFrames& defaults = restype_rigid_group_default_frame();

  for (int64_t i = 0; i < num_res; ++i) {
    const int r = restype_of(aatype, i, "torsion_angles_to_frames");
    Rigid backb_to_global;
    for (int k = 0; k < 9; ++k) backb_to_global.rot[k] = rotations[i * 9 + k];
    for (int k = 0; k < 3; ++k) backb_to_global.trans[k] = translations[i * 3 + k];

    // Default frames (r3.rigids_from_tensor4x4) composed with the rotation about x by each torsion
    // (r3.rigids_mul_rots); the backbone group gets the zero rotation (sin 0, cos 1).
    std::array<Rigid, rigid_group_num> frames;
    for (int g = 0; g < rigid_group_num; ++g) {
      const RigidTransform4x4& m = defaults[r][g];
      const std::array<float, 9> default_rot = {m[0][0], m[0][1], m[0][2], m[1][0], m[1][1],
                                                m[1][2], m[2][0], m[2][1], m[2][2]};
      const float s = g == 0 ? 0.f : angles_sin_cos[(i * torsion_num + (g - 1)) * 2 + 0];
      const float c = g == 0 ? 1.f : angles_sin_cos[(i * torsion_num + (g - 1)) * 2 + 1];
      const std::array<float, 9> rot_x = {1.f, 0.f, 0.f, 0.f, c, -s, 0.f, s, c};
      frames[g] = {rot_mul_rot(default_rot, rot_x), {m[0][3], m[1][3], m[2][3]}};
    }

    // chi2..chi4 frames map to the previous chi frame: chain them onto chi1 to reach the backbone frame.
    for (int g = 5; g < rigid_group_num; ++g) frames[g] = compose(frames[g - 1], frames[g]);

    for (int g = 0; g < rigid_group_num; ++g) {
      const Rigid global = compose(backb_to_global, frames[g]);
      const int64_t f = i * rigid_group_num + g;
      for (int k = 0; k < 9; ++k) group_rotations[f * 9 + k] = global.rot[k];
      for (int k = 0; k < 3; ++k) group_translations[f * 3 + k] = global.trans[k];
    }
  }
}

void frames_to_atom14_positions(int64_t num_res, const int32_t* aatype, const float* group_rotations,
                                const float* group_translations, float* atom14_positions, float* atom14_mask) {
  AXF_CHECK(num_res >= 0, "frames_to_atom14_positions: negative num_res ", num_res);
  if (num_res == 0) return;
  AXF_CHECK(aatype && group_rotations && group_translations && atom14_positions,
            "frames_to_atom14_positions: null array");

  for (int64_t i = 0; i < num_res; ++i) {
    const int r = restype_of(aatype, i, "frames_to_atom14_positions");
    for (int a = 0; a < atom14_num; ++a) {
      const int64_t f = i * rigid_group_num + restype_atom14_to_rigid_group[r][a];
      std::array<float, 9> rot;
      for (int k = 0; k < 9; ++k) rot[k] = group_rotations[f * 9 + k];
      // r3.rigids_mul_vecs: R x + t, then the atom14 mask multiplies the result.
      const std::array<float, 3> rx = rot_mul_vec(rot, restype_atom14_rigid_group_positions[r][a]);
      const float mask = restype_atom14_mask[r][a];
      float* out = atom14_positions + (i * atom14_num + a) * 3;
      for (int k = 0; k < 3; ++k) out[k] = (rx[k] + group_translations[f * 3 + k]) * mask;
      if (atom14_mask) atom14_mask[i * atom14_num + a] = mask;
    }
  }
}

void atom14_to_atom37(int64_t num_res, const int32_t* aatype, const float* atom14_positions, float* atom37_positions,
                      float* atom37_mask) {
  AXF_CHECK(num_res >= 0, "atom14_to_atom37: negative num_res ", num_res);
  if (num_res == 0) return;
  AXF_CHECK(aatype && atom14_positions && atom37_positions, "atom14_to_atom37: null array");

  for (int64_t i = 0; i < num_res; ++i) {
    const int r = restype_of(aatype, i, "atom14_to_atom37");
    for (int j = 0; j < atom_type_num; ++j) {
      // batched_gather with residx_atom37_to_atom14, times atom37_atom_exists.
      const float* src = atom14_positions + (i * atom14_num + restype_atom37_to_atom14[r][j]) * 3;
      const float exists = restype_atom37_exists[r][j];
      float* out = atom37_positions + (i * atom_type_num + j) * 3;
      for (int k = 0; k < 3; ++k) out[k] = src[k] * exists;
      if (atom37_mask) atom37_mask[i * atom_type_num + j] = exists;
    }
  }
}

void atom14_exists(int64_t num_res, const int32_t* aatype, float* mask) {
  AXF_CHECK(num_res >= 0, "atom14_exists: negative num_res ", num_res);
  if (num_res == 0) return;
  AXF_CHECK(aatype && mask, "atom14_exists: null array");
  for (int64_t i = 0; i < num_res; ++i) {
    const int r = restype_of(aatype, i, "atom14_exists");
    for (int a = 0; a < atom14_num; ++a) mask[i * atom14_num + a] = restype_atom14_mask[r][a];
  }
}

void atom37_exists(int64_t num_res, const int32_t* aatype, float* mask) {
  AXF_CHECK(num_res >= 0, "atom37_exists: negative num_res ", num_res);
  if (num_res == 0) return;
  AXF_CHECK(aatype && mask, "atom37_exists: null array");
  for (int64_t i = 0; i < num_res; ++i) {
    const int r = restype_of(aatype, i, "atom37_exists");
    for (int j = 0; j < atom_type_num; ++j) mask[i * atom_type_num + j] = restype_atom37_exists[r][j];
  }
}

}  // namespace axf::model
