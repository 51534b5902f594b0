// Rigid frames (AlphaFold quat_affine.QuatAffine): quaternion <-> rotation, the backbone update pre_compose
// against a literal double-precision implementation of Suppl. Alg. 23, point transforms.
#include <gtest/gtest.h>

#include <array>
#include <cmath>

#include "core/random.h"
#include "model/rigid.h"

namespace axf::test {
namespace {

using model::QuatAffine;
using D4 = std::array<double, 4>;
using D9 = std::array<double, 9>;

model::Quat4f random_unit_quat(core::Random& rng) {
  model::Quat4f q{};
  double n = 0;
  for (float& x : q) {
    x = static_cast<float>(rng.normal());
    n += static_cast<double>(x) * x;
  }
  for (float& x : q) x = static_cast<float>(x / std::sqrt(n));
  return q;
}

// Rotation of a unit quaternion in the textbook form (independent of AlphaFold's QUAT_TO_ROT table).
D9 rot_ref(const D4& q) {
  const double w = q[0], x = q[1], y = q[2], z = q[3];
  return {1 - 2 * (y * y + z * z), 2 * (x * y - w * z),     2 * (x * z + w * y),
          2 * (x * y + w * z),     1 - 2 * (x * x + z * z), 2 * (y * z - w * x),
          2 * (x * z - w * y),     2 * (y * z + w * x),     1 - 2 * (x * x + y * y)};
}

TEST(Rigid, RotationsAreOrthonormal) {
  core::Random rng(11);
  for (int trial = 0; trial < 100; ++trial) {
    const model::Rot3f r = model::quat_to_rot(random_unit_quat(rng));
    for (int a = 0; a < 3; ++a)
      for (int b = 0; b < 3; ++b) {
        double dot = 0;
        for (int k = 0; k < 3; ++k) dot += static_cast<double>(r[a * 3 + k]) * r[b * 3 + k];
        EXPECT_NEAR(dot, a == b ? 1.0 : 0.0, 1e-6);
      }
    const double det = r[0] * (r[4] * r[8] - r[5] * r[7]) - r[1] * (r[3] * r[8] - r[5] * r[6]) +
                       r[2] * (r[3] * r[7] - r[4] * r[6]);
    EXPECT_NEAR(det, 1.0, 1e-6);
  }
}

TEST(Rigid, QuaternionRotationRoundTrips) {
  core::Random rng(12);
  for (int trial = 0; trial < 100; ++trial) {
    model::Quat4f q = random_unit_quat(rng);
    if (trial == 0) q = {0.f, 1.f, 0.f, 0.f};                   // 180 degrees: w = 0
    if (trial == 1) q = {1.f, 0.f, 0.f, 0.f};                   // identity
    if (trial == 2) q = {0.f, 0.6f, 0.f, 0.8f};                 // 180 degrees about a tilted axis
    const model::Quat4f back = model::rot_to_quat(model::quat_to_rot(q));
    // q and -q are the same rotation; compare against the one whose sign matches.
    double dot = 0;
    for (int k = 0; k < 4; ++k) dot += static_cast<double>(q[k]) * back[k];
    const double sign = dot < 0 ? -1.0 : 1.0;
    for (int k = 0; k < 4; ++k) EXPECT_NEAR(back[k], sign * q[k], 2e-6) << "trial " << trial << " k " << k;
    EXPECT_GE(back[0], 0.f);
    // And rotation -> quaternion -> rotation.
    const model::Rot3f r = model::quat_to_rot(q), r2 = model::quat_to_rot(back);
    for (int k = 0; k < 9; ++k) EXPECT_NEAR(r2[k], r[k], 3e-6);
  }
}

TEST(Rigid, QuaternionProductComposesRotations) {
  core::Random rng(13);
  for (int trial = 0; trial < 20; ++trial) {
    const model::Quat4f a = random_unit_quat(rng), b = random_unit_quat(rng);
    const model::Rot3f ra = model::quat_to_rot(a), rb = model::quat_to_rot(b);
    const model::Rot3f rab = model::quat_to_rot(model::quat_multiply(a, b));
    for (int i = 0; i < 3; ++i)
      for (int j = 0; j < 3; ++j) {
        double want = 0;
        for (int k = 0; k < 3; ++k) want += static_cast<double>(ra[i * 3 + k]) * rb[k * 3 + j];
        EXPECT_NEAR(rab[i * 3 + j], want, 2e-6);
      }
    // quat_multiply_by_vec(q, v) == q (0, v).
    const model::Vec3f v{static_cast<float>(rng.normal()), static_cast<float>(rng.normal()),
                         static_cast<float>(rng.normal())};
    const model::Quat4f p1 = model::quat_multiply_by_vec(a, v), p2 = model::quat_multiply(a, {0.f, v[0], v[1], v[2]});
    for (int k = 0; k < 4; ++k) EXPECT_FLOAT_EQ(p1[k], p2[k]);
  }
}

TEST(Rigid, PreComposeMatchesLiteralAlgorithm23) {
  core::Random rng(14);
  QuatAffine a = QuatAffine::from_quaternion(random_unit_quat(rng), {0.3f, -1.2f, 2.0f});
  D4 q{a.quaternion[0], a.quaternion[1], a.quaternion[2], a.quaternion[3]};
  std::array<double, 3> t{a.translation[0], a.translation[1], a.translation[2]};
  for (int step = 0; step < 8; ++step) {
    float u[6];
    for (float& x : u) x = static_cast<float>(rng.normal());
    a = a.pre_compose(u);
    // Alg. 23: the update quaternion (1, b, c, d) / ||.|| composed on the right; the translation update is
    // expressed in the current frame: T <- T o (R_update, t_update).
    const D4 upd{1.0, u[0], u[1], u[2]};
    const D4 prod{q[0] * upd[0] - q[1] * upd[1] - q[2] * upd[2] - q[3] * upd[3],
                  q[0] * upd[1] + q[1] * upd[0] + q[2] * upd[3] - q[3] * upd[2],
                  q[0] * upd[2] - q[1] * upd[3] + q[2] * upd[0] + q[3] * upd[1],
                  q[0] * upd[3] + q[1] * upd[2] - q[2] * upd[1] + q[3] * upd[0]};
    const double n = std::sqrt(prod[0] * prod[0] + prod[1] * prod[1] + prod[2] * prod[2] + prod[3] * prod[3]);
    const D9 r_old = rot_ref(q);
    for (int d = 0; d < 3; ++d) t[d] += r_old[d * 3] * u[3] + r_old[d * 3 + 1] * u[4] + r_old[d * 3 + 2] * u[5];
    for (int k = 0; k < 4; ++k) q[k] = prod[k] / n;
    const D9 r = rot_ref(q);
    for (int k = 0; k < 4; ++k) EXPECT_NEAR(a.quaternion[k], q[k], 1e-5) << "step " << step;
    for (int k = 0; k < 9; ++k) EXPECT_NEAR(a.rotation[k], r[k], 1e-5) << "step " << step;
    for (int d = 0; d < 3; ++d) EXPECT_NEAR(a.translation[d], t[d], 1e-5 * (1 + std::fabs(t[d]))) << "step " << step;
  }
  // A zero update is the identity.
  const float zero[6] = {0, 0, 0, 0, 0, 0};
  const QuatAffine same = a.pre_compose(zero);
  for (int k = 0; k < 4; ++k) EXPECT_NEAR(same.quaternion[k], a.quaternion[k], 1e-7);
  for (int d = 0; d < 3; ++d) EXPECT_EQ(same.translation[d], a.translation[d]);
}

TEST(Rigid, PointsTensorsAndScaling) {
  core::Random rng(15);
  const QuatAffine a = QuatAffine::from_quaternion(random_unit_quat(rng), {1.5f, -0.5f, 4.0f});
  const model::Vec3f p{0.7f, -2.0f, 3.1f};
  const model::Vec3f g = a.apply_to_point(p), back = a.invert_point(g);
  for (int d = 0; d < 3; ++d) EXPECT_NEAR(back[d], p[d], 1e-5);
  for (int d = 0; d < 3; ++d) {
    double want = a.translation[d];
    for (int k = 0; k < 3; ++k) want += static_cast<double>(a.rotation[d * 3 + k]) * p[k];
    EXPECT_NEAR(g[d], want, 1e-5);
  }
  float tensor[7];
  a.to_tensor(tensor);
  const QuatAffine b = QuatAffine::from_tensor(tensor);
  for (int k = 0; k < 9; ++k) EXPECT_EQ(b.rotation[k], a.rotation[k]);
  const QuatAffine s = a.scale_translation(10.f);
  for (int d = 0; d < 3; ++d) EXPECT_FLOAT_EQ(s.translation[d], 10.f * a.translation[d]);
  for (int k = 0; k < 9; ++k) EXPECT_EQ(s.rotation[k], a.rotation[k]);
  // Unnormalised quaternions are normalised by the constructor (QuatAffine(normalize=True)).
  const QuatAffine n = QuatAffine::from_quaternion({2.f, 0.f, 0.f, 0.f}, {0.f, 0.f, 0.f});
  EXPECT_FLOAT_EQ(n.quaternion[0], 1.f);
  EXPECT_EQ(model::identity_affines(3).size(), 3u);
}

}  // namespace
}  // namespace axf::test
