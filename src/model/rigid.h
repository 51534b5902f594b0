// Backbone rigid frames as AlphaFold's monomer structure module keeps them (AlphaFold quat_affine.QuatAffine;
// Suppl. 1.8.1 and Alg. 23 "BackboneUpdate"): a unit quaternion (w, x, y, z), the rotation matrix derived from it
// (row-major, x_global = R x_local + t) and a translation in the module's internal unit (Angstrom / position_scale).
// Host float arithmetic in AlphaFold's order of operations; inference only, so stop_gradient has no counterpart.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

namespace axf::model {

using Quat4f = std::array<float, 4>;  // (w, x, y, z)
using Rot3f = std::array<float, 9>;  // row-major 3x3
using Vec3f = std::array<float, 3>;

// QUAT_TO_ROT contraction of a normalised quaternion (quat_affine.quat_to_rot).
Rot3f quat_to_rot(const Quat4f& q);
// Hamilton products: quat_multiply(a, b) = a b; quat_multiply_by_vec(q, v) = q (0, v).
Quat4f quat_multiply(const Quat4f& a, const Quat4f& b);
Quat4f quat_multiply_by_vec(const Quat4f& q, const Vec3f& v);
// q / ||q|| (jnp.linalg.norm, no epsilon, as QuatAffine(normalize=True)).
Quat4f normalize_quat(const Quat4f& q);
// The quaternion of a rotation matrix (quat_affine.rot_to_quat: eigenvector of the largest eigenvalue of the
// symmetric 4x4 matrix K/3), in double with Jacobi sweeps. eigh's sign is arbitrary; we return w >= 0.
Quat4f rot_to_quat(const Rot3f& r);

Vec3f apply_rot(const Rot3f& r, const Vec3f& v);          // R v
Vec3f apply_inverse_rot(const Rot3f& r, const Vec3f& v);  // R^T v

struct QuatAffine {
  Quat4f quaternion{1.f, 0.f, 0.f, 0.f};
  Rot3f rotation{1.f, 0.f, 0.f, 0.f, 1.f, 0.f, 0.f, 0.f, 1.f};
  Vec3f translation{0.f, 0.f, 0.f};

  // QuatAffine(quaternion, translation, normalize): rotation from the (optionally normalised) quaternion.
  static QuatAffine from_quaternion(const Quat4f& q, const Vec3f& t, bool normalize = true);
  // QuatAffine.from_tensor of a [7] row (quaternion, translation), normalize=False as FoldIteration calls it.
  static QuatAffine from_tensor(const float* tensor7);
  void to_tensor(float* tensor7) const;

  // QuatAffine.pre_compose(update), update = (b, c, d, tx, ty, tz): the new quaternion q + q (0, b, c, d) is
  // normalised by the constructor, the translation update is rotated by the current rotation and added.
  QuatAffine pre_compose(const float* update6) const;
  // QuatAffine.scale_translation: same rotation, translation * scale.
  QuatAffine scale_translation(float scale) const;
  Vec3f apply_to_point(const Vec3f& p) const;  // R p + t
  Vec3f invert_point(const Vec3f& p) const;    // R^T (p - t)
};

// generate_new_affine: identity quaternion, zero translation for every residue.
std::vector<QuatAffine> identity_affines(int64_t num_res);

}  // namespace axf::model
