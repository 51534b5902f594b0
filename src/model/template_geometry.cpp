// Template torsion angles and pseudo-beta from atom37 coordinates, float32 in AlphaFold's operation order.
#include "model/template_geometry.h"

#include <algorithm>
#include <array>
#include <cmath>

#include "core/error.h"
#include "model/residue_constants.h"

namespace axf::model {

namespace {

struct Vec3 {
  float x, y, z;
};

constexpr float kNormEps = 1e-8f;  // r3.vecs_robust_norm epsilon and the sin/cos normaliser's epsilon

Vec3 load(const float* p) { return {p[0], p[1], p[2]}; }

Vec3 sub(const Vec3& a, const Vec3& b) { return {a.x - b.x, a.y - b.y, a.z - b.z}; }

float dot(const Vec3& a, const Vec3& b) { return a.x * b.x + a.y * b.y + a.z * b.z; }

// r3.vecs_robust_normalize: v / sqrt(x^2 + y^2 + z^2 + eps).
Vec3 robust_normalize(const Vec3& v) {
  const float n = std::sqrt(v.x * v.x + v.y * v.y + v.z * v.z + kNormEps);
  return {v.x / n, v.y / n, v.z / n};
}

Vec3 cross(const Vec3& a, const Vec3& b) {
  return {a.y * b.z - a.z * b.y, a.z * b.x - a.x * b.z, a.x * b.y - a.y * b.x};
}

// Torsion (sin, cos) from four points a, b, c, d, following all_atom.atom37_to_torsion_angles:
// frame = r3.rigids_from_3_points(point_on_neg_x_axis=b, origin=c, point_on_xy_plane=a) (Gram-Schmidt, Alg. 21),
// d is mapped into that frame by the inverted rigid (R^T d - R^T c), and (z, y) / sqrt(z^2 + y^2 + eps) is returned.
std::array<float, 2> torsion_sin_cos(const Vec3& a, const Vec3& b, const Vec3& c, const Vec3& d) {
  // r3.rots_from_two_vecs(e0_unnormalized = origin - neg_x, e1_unnormalized = xy_plane - origin).
  const Vec3 e0 = robust_normalize(sub(c, b));
  const Vec3 e1_raw = sub(a, c);
  const float proj = dot(e1_raw, e0);
  const Vec3 e1 = robust_normalize({e1_raw.x - proj * e0.x, e1_raw.y - proj * e0.y, e1_raw.z - proj * e0.z});
  const Vec3 e2 = cross(e0, e1);
  // Rot has columns e0, e1, e2; its inverse (transpose) has rows e0, e1, e2. invert_rigids gives trans = -(R^T c);
  // rigids_mul_vecs then computes R^T d + trans. Only y and z are needed.
  const float y = dot(e1, d) + (-dot(e1, c));
  const float z = dot(e2, d) + (-dot(e2, c));
  const float n = std::sqrt(z * z + y * y + kNormEps);
  return {z / n, y / n};
}

constexpr int kN = 0, kCA = 1, kC = 2, kO = 4;  // atom37 slots (atom_order)
static_assert(atom37_index("N") == kN && atom37_index("CA") == kCA && atom37_index("C") == kC &&
              atom37_index("O") == kO);

// get_chi_atom_indices() as a table [21][4][4].
constexpr std::array<ChiAtomIndices, restype_num_with_x> kChiAtomIndices = [] {
  std::array<ChiAtomIndices, restype_num_with_x> t{};
  for (int r = 0; r < restype_num_with_x; ++r) t[r] = chi_atom37_indices(r);
  return t;
}();

// Psi is computed from O (N, CA, C, O), which puts it pi away: mirror both components.
constexpr std::array<float, torsion_num> kTorsionMirror = {1.f, 1.f, -1.f, 1.f, 1.f, 1.f, 1.f};

}  // namespace

void atom37_to_torsion_angles(int64_t num_templates, int64_t num_res, const int32_t* aatype, const float* positions,
                              const float* mask, float* sin_cos, float* alt_sin_cos, float* torsion_mask) {
  AXF_CHECK(num_templates >= 0 && num_res >= 0, "atom37_to_torsion_angles: bad shape T=", num_templates,
            " L=", num_res);
  if (num_templates == 0 || num_res == 0) return;
  AXF_CHECK(aatype && positions && mask && sin_cos && alt_sin_cos && torsion_mask,
            "atom37_to_torsion_angles: null array");

  constexpr int64_t kPosStride = static_cast<int64_t>(atom_type_num) * 3;
  static const float kZeroPos[atom_type_num * 3] = {};
  static const float kZeroMask[atom_type_num] = {};

  for (int64_t t = 0; t < num_templates; ++t) {
    for (int64_t i = 0; i < num_res; ++i) {
      const int64_t ri = t * num_res + i;
      const int32_t raw_type = aatype[ri];
      AXF_CHECK(raw_type >= 0, "atom37_to_torsion_angles: negative aatype ", raw_type, " at template ", t,
                " residue ", i);
      const int restype = std::min<int32_t>(raw_type, unk_restype_index);  // jnp.minimum(aatype, 20)

      const float* pos = positions + ri * kPosStride;
      const float* msk = mask + ri * atom_type_num;
      // The previous residue of residue 0 is an all-zero pad (positions and mask).
      const float* prev_pos = i > 0 ? pos - kPosStride : kZeroPos;
      const float* prev_msk = i > 0 ? msk - atom_type_num : kZeroMask;
      auto p = [pos](int atom) { return load(pos + atom * 3); };
      auto pp = [prev_pos](int atom) { return load(prev_pos + atom * 3); };

      // Defining atoms (point_on_xy_plane, point_on_neg_x_axis, origin, fourth) and masks per torsion.
      std::array<std::array<Vec3, 4>, torsion_num> atoms;
      std::array<float, torsion_num> tmask;
      atoms[0] = {pp(kCA), pp(kC), p(kN), p(kCA)};  // pre_omega: prev CA, prev C, N, CA
      atoms[1] = {pp(kC), p(kN), p(kCA), p(kC)};    // phi: prev C, N, CA, C
      atoms[2] = {p(kN), p(kCA), p(kC), p(kO)};     // psi (from O): N, CA, C, O
      tmask[0] = (prev_msk[kCA] * prev_msk[kC]) * (msk[kN] * msk[kCA]);
      tmask[1] = prev_msk[kC] * ((msk[kN] * msk[kCA]) * msk[kC]);
      tmask[2] = ((msk[kN] * msk[kCA]) * msk[kC]) * msk[kO];
      const ChiAtomIndices& chi_idx = kChiAtomIndices[restype];
      for (int c = 0; c < chi_num; ++c) {
        const auto& idx = chi_idx[c];
        atoms[3 + c] = {p(idx[0]), p(idx[1]), p(idx[2]), p(idx[3])};
        const float atoms_mask = ((msk[idx[0]] * msk[idx[1]]) * msk[idx[2]]) * msk[idx[3]];
        tmask[3 + c] = chi_angles_mask[restype][c] * atoms_mask;
      }

      float* sc = sin_cos + ri * torsion_num * 2;
      float* alt = alt_sin_cos + ri * torsion_num * 2;
      float* tm = torsion_mask + ri * torsion_num;
      for (int k = 0; k < torsion_num; ++k) {
        const auto& a = atoms[k];
        const std::array<float, 2> v = torsion_sin_cos(a[0], a[1], a[2], a[3]);
        const float s = v[0] * kTorsionMirror[k];
        const float co = v[1] * kTorsionMirror[k];
        // Alternative angles: pi-periodic chis multiplied by 1 - 2 * chi_pi_periodic (= -1), others by 1.
        const float alt_mirror = k < 3 ? 1.f : 1.f - 2.f * chi_pi_periodic[restype][k - 3];
        sc[2 * k] = s;
        sc[2 * k + 1] = co;
        alt[2 * k] = s * alt_mirror;
        alt[2 * k + 1] = co * alt_mirror;
        tm[k] = tmask[k];
      }
    }
  }
}

void pseudo_beta(int64_t n, const int32_t* aatype, const float* positions, const float* mask, float* pseudo_beta,
                 float* pseudo_beta_mask) {
  AXF_CHECK(n >= 0, "pseudo_beta: bad residue count ", n);
  if (n == 0) return;
  AXF_CHECK(aatype && positions && pseudo_beta, "pseudo_beta: null array");
  AXF_CHECK(!mask || pseudo_beta_mask, "pseudo_beta: mask given but pseudo_beta_mask output is null");
  constexpr int kGly = restype_order('G');
  static constexpr int kCB = atom37_index("CB");
  static_assert(kGly == 7 && kCB == 3);
  for (int64_t i = 0; i < n; ++i) {
    const int atom = aatype[i] == kGly ? kCA : kCB;
    const float* src = positions + (i * atom_type_num + atom) * 3;
    pseudo_beta[i * 3 + 0] = src[0];
    pseudo_beta[i * 3 + 1] = src[1];
    pseudo_beta[i * 3 + 2] = src[2];
    if (mask) pseudo_beta_mask[i] = mask[i * atom_type_num + atom];
  }
}

}  // namespace axf::model
