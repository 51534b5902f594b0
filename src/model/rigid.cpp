#include "model/rigid.h"

#include <cmath>

namespace axf::model {

Rot3f quat_to_rot(const Quat4f& q) {
  const float w = q[0], x = q[1], y = q[2], z = q[3];
  // The non-zero entries of AlphaFold's QUAT_TO_ROT table, grouped per matrix element.
  return {w * w + x * x - y * y - z * z, 2 * x * y - 2 * w * z,             2 * x * z + 2 * w * y,
          2 * x * y + 2 * w * z,         w * w - x * x + y * y - z * z,     2 * y * z - 2 * w * x,
          2 * x * z - 2 * w * y,         2 * y * z + 2 * w * x,             w * w - x * x - y * y + z * z};
}

Quat4f quat_multiply(const Quat4f& a, const Quat4f& b) {
  return {a[0] * b[0] - a[1] * b[1] - a[2] * b[2] - a[3] * b[3],
          a[0] * b[1] + a[1] * b[0] + a[2] * b[3] - a[3] * b[2],
          a[0] * b[2] - a[1] * b[3] + a[2] * b[0] + a[3] * b[1],
          a[0] * b[3] + a[1] * b[2] - a[2] * b[1] + a[3] * b[0]};
}

Quat4f quat_multiply_by_vec(const Quat4f& q, const Vec3f& v) {
  // QUAT_MULTIPLY_BY_VEC = QUAT_MULTIPLY[:, 1:, :]: the product with the pure quaternion (0, v).
  return {-q[1] * v[0] - q[2] * v[1] - q[3] * v[2],
          q[0] * v[0] + q[2] * v[2] - q[3] * v[1],
          q[0] * v[1] - q[1] * v[2] + q[3] * v[0],
          q[0] * v[2] + q[1] * v[1] - q[2] * v[0]};
}

Quat4f normalize_quat(const Quat4f& q) {
  const float norm = std::sqrt(q[0] * q[0] + q[1] * q[1] + q[2] * q[2] + q[3] * q[3]);
  return {q[0] / norm, q[1] / norm, q[2] / norm, q[3] / norm};
}

Quat4f rot_to_quat(const Rot3f& r) {
  const double xx = r[0], xy = r[1], xz = r[2], yx = r[3], yy = r[4], yz = r[5], zx = r[6], zy = r[7], zz = r[8];
  double k[4][4] = {{xx + yy + zz, zy - yz, xz - zx, yx - xy},
                    {zy - yz, xx - yy - zz, xy + yx, xz + zx},
                    {xz - zx, xy + yx, yy - xx - zz, yz + zy},
                    {yx - xy, xz + zx, yz + zy, zz - xx - yy}};
  for (auto& row : k)
    for (double& e : row) e /= 3.0;
  double v[4][4] = {{1, 0, 0, 0}, {0, 1, 0, 0}, {0, 0, 1, 0}, {0, 0, 0, 1}};
  // Cyclic Jacobi rotations; a 4x4 converges to double precision in a handful of sweeps.
  for (int sweep = 0; sweep < 50; ++sweep) {
    double off = 0;
    for (int p = 0; p < 4; ++p)
      for (int q = p + 1; q < 4; ++q) off += k[p][q] * k[p][q];
    if (off < 1e-30) break;
    for (int p = 0; p < 4; ++p) {
      for (int q = p + 1; q < 4; ++q) {
        if (std::fabs(k[p][q]) < 1e-300) continue;
        const double theta = (k[q][q] - k[p][p]) / (2 * k[p][q]);
        const double t = (theta >= 0 ? 1.0 : -1.0) / (std::fabs(theta) + std::sqrt(theta * theta + 1));
        const double c = 1 / std::sqrt(t * t + 1), s = t * c;
        for (int i = 0; i < 4; ++i) {  // K <- K J (columns p, q)
          const double kip = k[i][p], kiq = k[i][q];
          k[i][p] = c * kip - s * kiq;
          k[i][q] = s * kip + c * kiq;
        }
        for (int i = 0; i < 4; ++i) {  // K <- J^T K (rows p, q)
          const double kpi = k[p][i], kqi = k[q][i];
          k[p][i] = c * kpi - s * kqi;
          k[q][i] = s * kpi + c * kqi;
        }
        for (int i = 0; i < 4; ++i) {  // V <- V J
          const double vip = v[i][p], viq = v[i][q];
          v[i][p] = c * vip - s * viq;
          v[i][q] = s * vip + c * viq;
        }
      }
    }
  }
  int best = 0;
  for (int i = 1; i < 4; ++i)
    if (k[i][i] > k[best][best]) best = i;
  const double sign = v[0][best] < 0 ? -1.0 : 1.0;
  return {static_cast<float>(sign * v[0][best]), static_cast<float>(sign * v[1][best]),
          static_cast<float>(sign * v[2][best]), static_cast<float>(sign * v[3][best])};
}

Vec3f apply_rot(const Rot3f& r, const Vec3f& v) {
  return {r[0] * v[0] + r[1] * v[1] + r[2] * v[2], r[3] * v[0] + r[4] * v[1] + r[5] * v[2],
          r[6] * v[0] + r[7] * v[1] + r[8] * v[2]};
}

Vec3f apply_inverse_rot(const Rot3f& r, const Vec3f& v) {
  return {r[0] * v[0] + r[3] * v[1] + r[6] * v[2], r[1] * v[0] + r[4] * v[1] + r[7] * v[2],
          r[2] * v[0] + r[5] * v[1] + r[8] * v[2]};
}

QuatAffine QuatAffine::from_quaternion(const Quat4f& q, const Vec3f& t, bool normalize) {
  QuatAffine a;
  a.quaternion = normalize ? normalize_quat(q) : q;
  a.rotation = quat_to_rot(a.quaternion);
  a.translation = t;
  return a;
}

QuatAffine QuatAffine::from_tensor(const float* tensor7) {
  return from_quaternion({tensor7[0], tensor7[1], tensor7[2], tensor7[3]}, {tensor7[4], tensor7[5], tensor7[6]},
                         false);
}

void QuatAffine::to_tensor(float* tensor7) const {
  for (int i = 0; i < 4; ++i) tensor7[i] = quaternion[i];
  for (int i = 0; i < 3; ++i) tensor7[4 + i] = translation[i];
}

QuatAffine QuatAffine::pre_compose(const float* update6) const {
  const Quat4f dq = quat_multiply_by_vec(quaternion, {update6[0], update6[1], update6[2]});
  const Quat4f new_quaternion{quaternion[0] + dq[0], quaternion[1] + dq[1], quaternion[2] + dq[2],
                            quaternion[3] + dq[3]};
  const Vec3f dt = apply_rot(rotation, {update6[3], update6[4], update6[5]});
  const Vec3f new_translation{translation[0] + dt[0], translation[1] + dt[1], translation[2] + dt[2]};
  return from_quaternion(new_quaternion, new_translation, true);
}

QuatAffine QuatAffine::scale_translation(float scale) const {
  QuatAffine a = *this;
  for (float& x : a.translation) x *= scale;
  return a;
}

Vec3f QuatAffine::apply_to_point(const Vec3f& p) const {
  const Vec3f r = apply_rot(rotation, p);
  return {r[0] + translation[0], r[1] + translation[1], r[2] + translation[2]};
}

Vec3f QuatAffine::invert_point(const Vec3f& p) const {
  return apply_inverse_rot(rotation, {p[0] - translation[0], p[1] - translation[1], p[2] - translation[2]});
}

std::vector<QuatAffine> identity_affines(int64_t num_res) {
  return std::vector<QuatAffine>(static_cast<size_t>(num_res > 0 ? num_res : 0));
}

}  // namespace axf::model
