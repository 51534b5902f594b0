// Checks of template torsion angles and pseudo-beta (model/template_geometry.h) against an independent
// double-precision dihedral implementation and literal AlphaFold definitions of the torsions and their masks.
//
// Why AlphaFold's frame construction equals the dihedral angle: for a torsion defined by atoms (a, b, c, d),
// atom37_to_torsion_angles builds r3.rigids_from_3_points(point_on_neg_x_axis=b, origin=c, point_on_xy_plane=a):
//   e0 = unit(c - b)                      the rotation axis b->c,
//   e1 = unit((a - c) - ((a - c).e0) e0)  the part of a's bond perpendicular to the axis (a - c and a - b differ by
//                                         a multiple of e0, so this is also the perpendicular part of a - b),
//   e2 = e0 x e1.
// The fourth atom in that frame is (x, y, z) = (e0.(d - c), e1.(d - c), e2.(d - c)); (y, z) are the coordinates of
// d's perpendicular part in the orthonormal basis (e1, e2) of the plane normal to the axis. atan2(z, y) is therefore
// the angle from a's projection to d's projection, positive for a right-handed rotation about b->c, i.e. the
// IUPAC dihedral theta(a, b, c, d) (clockwise when looking from b to c). Normalising (z, y) gives
// (sin theta, cos theta). Psi is computed from (N, CA, C, O), which is psi + pi, so AlphaFold multiplies both
// components by -1; the alternative angles multiply pi-periodic chis by -1 (theta + pi) as well.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "core/error.h"
#include "model/residue_constants.h"
#include "model/template_geometry.h"

namespace axf::model {
namespace {

constexpr int kAtoms = 37;
constexpr int kTorsions = 7;

// ---- Independent reference: the standard atan2 dihedral of four points, in double. ----------------------------
struct D3 {
  double x, y, z;
};
D3 operator-(const D3& a, const D3& b) { return {a.x - b.x, a.y - b.y, a.z - b.z}; }
double dot3(const D3& a, const D3& b) { return a.x * b.x + a.y * b.y + a.z * b.z; }
D3 cross3(const D3& a, const D3& b) { return {a.y * b.z - a.z * b.y, a.z * b.x - a.x * b.z, a.x * b.y - a.y * b.x}; }
double norm3(const D3& a) { return std::sqrt(dot3(a, a)); }

// theta = atan2(|b2| b1.(b2 x b3), (b1 x b2).(b2 x b3)) with b1 = p1 - p0, b2 = p2 - p1, b3 = p3 - p2.
double dihedral(const D3& p0, const D3& p1, const D3& p2, const D3& p3) {
  const D3 b1 = p1 - p0, b2 = p2 - p1, b3 = p3 - p2;
  const D3 n2 = cross3(b2, b3);
  return std::atan2(norm3(b2) * dot3(b1, n2), dot3(cross3(b1, b2), n2));
}

// Distance of point p from the line through u and v.
double dist_to_line(const D3& p, const D3& u, const D3& v) {
  const D3 axis = v - u;
  return norm3(cross3(p - u, axis)) / norm3(axis);
}

// ---- Literal AlphaFold torsion definitions (names, with residue offset -1 for the previous residue). -----------
struct AtomRef {
  int offset;  // 0 = this residue, -1 = previous residue
  const char* name;
};
using TorsionDef = std::array<AtomRef, 4>;

const std::array<TorsionDef, 3> kBackbone = {{
    {{{-1, "CA"}, {-1, "C"}, {0, "N"}, {0, "CA"}}},  // pre_omega
    {{{-1, "C"}, {0, "N"}, {0, "CA"}, {0, "C"}}},    // phi
    {{{0, "N"}, {0, "CA"}, {0, "C"}, {0, "O"}}},     // psi (from O)
}};

// chi_angles_atoms of residue_constants.py, for the residue types used here (keyed by three-letter name).
const std::map<std::string, std::vector<std::array<const char*, 4>>> kChis = {
    {"ALA", {}},
    {"GLY", {}},
    {"UNK", {}},
    {"ARG", {{"N", "CA", "CB", "CG"}, {"CA", "CB", "CG", "CD"}, {"CB", "CG", "CD", "NE"}, {"CG", "CD", "NE", "CZ"}}},
    {"ASP", {{"N", "CA", "CB", "CG"}, {"CA", "CB", "CG", "OD1"}}},
    {"GLU", {{"N", "CA", "CB", "CG"}, {"CA", "CB", "CG", "CD"}, {"CB", "CG", "CD", "OE1"}}},
    {"PHE", {{"N", "CA", "CB", "CG"}, {"CA", "CB", "CG", "CD1"}}},
    {"TYR", {{"N", "CA", "CB", "CG"}, {"CA", "CB", "CG", "CD1"}}},
    {"LYS", {{"N", "CA", "CB", "CG"}, {"CA", "CB", "CG", "CD"}, {"CB", "CG", "CD", "CE"}, {"CG", "CD", "CE", "NZ"}}},
    {"MET", {{"N", "CA", "CB", "CG"}, {"CA", "CB", "CG", "SD"}, {"CB", "CG", "SD", "CE"}}},
    {"SER", {{"N", "CA", "CB", "OG"}}},
    {"ILE", {{"N", "CA", "CB", "CG1"}, {"CA", "CB", "CG1", "CD1"}}},
};
// chi_pi_periodic of residue_constants.py: (residue, chi number 1..4).
bool pi_periodic(const std::string& res, int chi) {
  return (res == "ASP" && chi == 2) || (res == "GLU" && chi == 3) || (res == "PHE" && chi == 2) ||
         (res == "TYR" && chi == 2);
}
// Heavy atoms of each residue used here (side chains; every residue also gets N, CA, C, O).
const std::map<std::string, std::vector<const char*>> kSideChain = {
    {"ALA", {"CB"}},
    {"GLY", {}},
    {"UNK", {"CB"}},
    {"ARG", {"CB", "CG", "CD", "NE", "CZ", "NH1", "NH2"}},
    {"ASP", {"CB", "CG", "OD1", "OD2"}},
    {"GLU", {"CB", "CG", "CD", "OE1", "OE2"}},
    {"PHE", {"CB", "CG", "CD1", "CD2", "CE1", "CE2", "CZ"}},
    {"TYR", {"CB", "CG", "CD1", "CD2", "CE1", "CE2", "CZ", "OH"}},
    {"LYS", {"CB", "CG", "CD", "CE", "NZ"}},
    {"MET", {"CB", "CG", "SD", "CE"}},
    {"SER", {"CB", "OG"}},
    {"ILE", {"CB", "CG1", "CG2", "CD1"}},
};

int slot(const char* name) {
  const int s = atom37_index(name);
  EXPECT_GE(s, 0) << name;
  return s;
}

// Residue name for an aatype value as AlphaFold treats it (values > 20 clipped to UNK).
std::string res_name(int32_t aatype) {
  static const char* names[21] = {"ALA", "ARG", "ASN", "ASP", "CYS", "GLN", "GLU", "GLY", "HIS", "ILE", "LEU",
                                  "LYS", "MET", "PHE", "PRO", "SER", "THR", "TRP", "TYR", "VAL", "UNK"};
  return names[aatype > 20 ? 20 : aatype];
}

// ---- A small random template set. ------------------------------------------------------------------------------
struct Templates {
  int64_t t = 0, l = 0;
  std::vector<int32_t> aatype;
  std::vector<float> pos;   // [T, L, 37, 3]
  std::vector<float> mask;  // [T, L, 37]

  float* atom(int64_t ti, int64_t i, int s) { return &pos[((ti * l + i) * kAtoms + s) * 3]; }
  float& m(int64_t ti, int64_t i, int s) { return mask[(ti * l + i) * kAtoms + s]; }
  D3 coord(int64_t ti, int64_t i, int s) const {
    const float* p = &pos[((ti * l + i) * kAtoms + s) * 3];
    return {p[0], p[1], p[2]};
  }
};

// Uniform in [lo, hi) from raw mt19937_64 output (portable across standard libraries).
double uniform(std::mt19937_64& rng, double lo, double hi) {
  return lo + (hi - lo) * static_cast<double>(rng() >> 11) * (1.0 / 9007199254740992.0);
}

Templates make_templates(uint64_t seed) {
  Templates tp;
  tp.t = 2;
  tp.l = 5;
  // Template 1 holds a gap code 21 (clipped to UNK) and an explicit UNK (20).
  tp.aatype = {restype_order('R'), restype_order('D'), restype_order('G'), restype_order('F'), restype_order('K'),
               restype_order('E'), restype_order('Y'), 21, restype_order('M'), 20};
  tp.pos.assign(tp.t * tp.l * kAtoms * 3, 0.f);
  tp.mask.assign(tp.t * tp.l * kAtoms, 0.f);
  std::mt19937_64 rng(seed);
  for (int64_t ti = 0; ti < tp.t; ++ti) {
    for (int64_t i = 0; i < tp.l; ++i) {
      std::vector<const char*> atoms = {"N", "CA", "C", "O"};
      for (const char* a : kSideChain.at(res_name(tp.aatype[ti * tp.l + i]))) atoms.push_back(a);
      for (const char* a : atoms) {
        float* p = tp.atom(ti, i, slot(a));
        p[0] = static_cast<float>(1.2 * static_cast<double>(i) - 2.4 + uniform(rng, -2.5, 2.5));
        p[1] = static_cast<float>(uniform(rng, -2.5, 2.5));
        p[2] = static_cast<float>(uniform(rng, -2.5, 2.5));
        tp.m(ti, i, slot(a)) = 1.f;
      }
    }
  }
  return tp;
}

struct Outputs {
  std::vector<float> sc, alt, tm;
};

Outputs run(Templates& tp) {
  Outputs o;
  o.sc.assign(tp.t * tp.l * kTorsions * 2, -7.f);
  o.alt.assign(tp.t * tp.l * kTorsions * 2, -7.f);
  o.tm.assign(tp.t * tp.l * kTorsions, -7.f);
  atom37_to_torsion_angles(tp.t, tp.l, tp.aatype.data(), tp.pos.data(), tp.mask.data(), o.sc.data(), o.alt.data(),
                           o.tm.data());
  return o;
}

// Literal defining atoms of torsion k of residue (ti, i); false when the torsion is not defined for the type.
bool torsion_def(const Templates& tp, int64_t ti, int64_t i, int k, TorsionDef& def) {
  if (k < 3) {
    def = kBackbone[k];
    return true;
  }
  const auto& chis = kChis.at(res_name(tp.aatype[ti * tp.l + i]));
  if (k - 3 >= static_cast<int>(chis.size())) return false;
  for (int a = 0; a < 4; ++a) def[a] = {0, chis[k - 3][a]};
  return true;
}

// Expected AlphaFold torsion mask: 0 if undefined for the residue type or for residue 0's previous-residue atoms,
// else the product of the four atoms' masks.
float expected_mask(Templates& tp, int64_t ti, int64_t i, int k) {
  TorsionDef def;
  if (!torsion_def(tp, ti, i, k, def)) return 0.f;
  float m = 1.f;
  for (const AtomRef& a : def) {
    if (i + a.offset < 0) return 0.f;
    m *= tp.m(ti, i + a.offset, slot(a.name));
  }
  return m;
}

TEST(TemplateGeometry, ReferenceDihedralSignConvention) {
  // a on +y, axis b->c along +x, d rotated by theta about +x from +y: IUPAC dihedral = +theta.
  for (double theta : {-3.0, -1.7, -0.5, 0.0, 0.4, 1.2, 2.9}) {
    const D3 a{0, 1, 0}, b{0, 0, 0}, c{1, 0, 0}, d{1, std::cos(theta), std::sin(theta)};
    EXPECT_NEAR(dihedral(a, b, c, d), theta, 1e-12);
  }
}

TEST(TemplateGeometry, HandBuiltChi1MatchesAngle) {
  // One SER residue: N on the xy side, CA-CB axis along +x, OG at a chosen chi1; CB, OG far from degenerate.
  for (double theta : {-2.8, -1.0, 0.3, 1.5, 3.1}) {
    std::vector<float> pos(kAtoms * 3, 0.f), mask(kAtoms, 0.f);
    auto put = [&](const char* n, double x, double y, double z) {
      pos[slot(n) * 3 + 0] = static_cast<float>(x);
      pos[slot(n) * 3 + 1] = static_cast<float>(y);
      pos[slot(n) * 3 + 2] = static_cast<float>(z);
      mask[slot(n)] = 1.f;
    };
    put("N", -0.5, 1.4, 0.0);
    put("CA", 0.0, 0.0, 0.0);
    put("C", 0.6, -0.7, 1.2);
    put("O", 1.5, -0.2, 1.9);
    put("CB", 1.5, 0.0, 0.0);
    put("OG", 2.0, 1.4 * std::cos(theta), 1.4 * std::sin(theta));
    const int32_t aatype = restype_order('S');
    std::vector<float> sc(14), alt(14), tm(7);
    atom37_to_torsion_angles(1, 1, &aatype, pos.data(), mask.data(), sc.data(), alt.data(), tm.data());
    EXPECT_NEAR(sc[2 * 3 + 0], std::sin(theta), 2e-6);
    EXPECT_NEAR(sc[2 * 3 + 1], std::cos(theta), 2e-6);
    EXPECT_EQ(tm[3], 1.f);
    EXPECT_EQ(tm[4], 0.f);
  }
}

TEST(TemplateGeometry, TorsionsMatchReferenceDihedrals) {
  Templates tp = make_templates(20240601);
  const Outputs o = run(tp);
  int defined = 0, checked = 0;
  for (int64_t ti = 0; ti < tp.t; ++ti) {
    for (int64_t i = 0; i < tp.l; ++i) {
      const std::string res = res_name(tp.aatype[ti * tp.l + i]);
      for (int k = 0; k < kTorsions; ++k) {
        const int64_t o7 = (ti * tp.l + i) * kTorsions + k;
        const float s = o.sc[2 * o7], c = o.sc[2 * o7 + 1], as = o.alt[2 * o7], ac = o.alt[2 * o7 + 1];
        SCOPED_TRACE(::testing::Message() << "template " << ti << " residue " << i << " (" << res << ") torsion " << k);
        ASSERT_TRUE(std::isfinite(s) && std::isfinite(c) && std::isfinite(as) && std::isfinite(ac));
        const float want_mask = expected_mask(tp, ti, i, k);
        EXPECT_EQ(o.tm[o7], want_mask);
        if (want_mask == 0.f) {
          TorsionDef def;
          if (!torsion_def(tp, ti, i, k, def)) {
            // Undefined chi: AlphaFold gathers atom slot 0 four times -> coincident points -> exactly (0, 0).
            EXPECT_EQ(s, 0.f);
            EXPECT_EQ(c, 0.f);
            EXPECT_EQ(as, 0.f);
            EXPECT_EQ(ac, 0.f);
          }
          continue;
        }
        ++defined;
        TorsionDef def;
        ASSERT_TRUE(torsion_def(tp, ti, i, k, def));
        std::array<D3, 4> p;
        for (int a = 0; a < 4; ++a) p[a] = tp.coord(ti, i + def[a].offset, slot(def[a].name));
        // Conditioning: float32 error in the angle scales like 1 / (distance of a, d from the axis, axis length).
        const double cond = std::min({norm3(p[2] - p[1]), dist_to_line(p[0], p[1], p[2]),
                                      dist_to_line(p[3], p[1], p[2])});
        if (cond < 0.05) continue;
        ++checked;
        const double tol = 1e-5 * std::max(1.0, 1.0 / cond);
        const double theta = dihedral(p[0], p[1], p[2], p[3]);
        const double sign = k == 2 ? -1.0 : 1.0;  // psi mirror: computed from O
        const double want_s = sign * std::sin(theta), want_c = sign * std::cos(theta);
        EXPECT_NEAR(s, want_s, tol);
        EXPECT_NEAR(c, want_c, tol);
        const double alt_sign = (k >= 3 && pi_periodic(res, k - 2)) ? -1.0 : 1.0;  // theta + pi
        EXPECT_NEAR(as, alt_sign * want_s, tol);
        EXPECT_NEAR(ac, alt_sign * want_c, tol);
        EXPECT_NEAR(static_cast<double>(s) * s + static_cast<double>(c) * c, 1.0, 1e-5);
      }
    }
  }
  // 2 x 5 residues: 8 pre_omega/phi (residue 0 excluded), 10 psi, chis of R D F K E Y M = 4+2+2+4+3+2+3.
  EXPECT_EQ(defined, 8 + 8 + 10 + 20);
  EXPECT_GE(checked, defined * 9 / 10);
}

TEST(TemplateGeometry, ResidueZeroAndChiLessResidues) {
  Templates tp = make_templates(7);
  const Outputs o = run(tp);
  for (int64_t ti = 0; ti < tp.t; ++ti) {
    EXPECT_EQ(o.tm[(ti * tp.l) * kTorsions + 0], 0.f);  // pre_omega of residue 0
    EXPECT_EQ(o.tm[(ti * tp.l) * kTorsions + 1], 0.f);  // phi of residue 0
    EXPECT_EQ(o.tm[(ti * tp.l) * kTorsions + 2], 1.f);  // psi of residue 0 is defined
    for (int64_t i = 0; i < tp.l; ++i) {
      const int32_t a = tp.aatype[ti * tp.l + i];
      if (a == restype_order('G') || a >= 20) {  // GLY, UNK (20) and gap (21 -> 20): no chis
        for (int k = 3; k < kTorsions; ++k) EXPECT_EQ(o.tm[(ti * tp.l + i) * kTorsions + k], 0.f);
        EXPECT_EQ(o.tm[(ti * tp.l + i) * kTorsions + 2], 1.f);  // backbone still there
      }
    }
  }
  for (float v : o.sc) EXPECT_TRUE(std::isfinite(v));
  for (float v : o.alt) EXPECT_TRUE(std::isfinite(v));
}

TEST(TemplateGeometry, SingleMissingAtomMasks) {
  Templates base = make_templates(99);
  const Outputs ref = run(base);
  int knocked = 0;
  for (int64_t ti = 0; ti < base.t; ++ti) {
    for (int64_t i = 0; i < base.l; ++i) {
      for (int s = 0; s < kAtoms; ++s) {
        if (base.m(ti, i, s) == 0.f) continue;
        Templates tp = base;
        tp.m(ti, i, s) = 0.f;  // coordinates kept: AlphaFold never looks at the mask for the values
        const Outputs o = run(tp);
        ++knocked;
        for (int64_t tj = 0; tj < tp.t; ++tj) {
          for (int64_t j = 0; j < tp.l; ++j) {
            for (int k = 0; k < kTorsions; ++k) {
              const int64_t o7 = (tj * tp.l + j) * kTorsions + k;
              const float want = expected_mask(tp, tj, j, k);
              ASSERT_EQ(o.tm[o7], want) << "missing " << atom_types[s] << " of template " << ti << " residue " << i
                                        << "; torsion " << k << " of residue " << j;
              // Values do not depend on the mask (placeholder_for_undefined=False).
              ASSERT_EQ(o.sc[2 * o7], ref.sc[2 * o7]);
              ASSERT_EQ(o.sc[2 * o7 + 1], ref.sc[2 * o7 + 1]);
              ASSERT_EQ(o.alt[2 * o7], ref.alt[2 * o7]);
            }
          }
        }
        // Spot checks of the dependency structure.
        const int64_t here = (ti * tp.l + i) * kTorsions;
        const int64_t next = (ti * tp.l + i + 1) * kTorsions;
        const std::string name(atom_types[s]);
        if (name == "C") {
          EXPECT_EQ(o.tm[here + 1], 0.f);  // phi
          EXPECT_EQ(o.tm[here + 2], 0.f);  // psi
          if (i + 1 < tp.l) {
            EXPECT_EQ(o.tm[next + 0], 0.f);  // next pre_omega
            EXPECT_EQ(o.tm[next + 1], 0.f);  // next phi
          }
        }
        if (name == "O") {
          EXPECT_EQ(o.tm[here + 2], 0.f);
          EXPECT_EQ(o.tm[here + 1], ref.tm[here + 1]);
        }
        if (name == "CB" && tp.aatype[ti * tp.l + i] == restype_order('R')) {
          EXPECT_EQ(o.tm[here + 3], 0.f);  // chi1 .. chi3 use CB, chi4 (CG CD NE CZ) does not
          EXPECT_EQ(o.tm[here + 4], 0.f);
          EXPECT_EQ(o.tm[here + 5], 0.f);
          EXPECT_EQ(o.tm[here + 6], 1.f);
        }
      }
    }
  }
  EXPECT_GT(knocked, 60);
}

TEST(TemplateGeometry, EmptyAndBadInputs) {
  EXPECT_NO_THROW(atom37_to_torsion_angles(0, 5, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr));
  std::vector<float> pos(kAtoms * 3, 0.f), mask(kAtoms, 1.f), sc(14), alt(14), tm(7);
  const int32_t bad = -1;
  EXPECT_THROW(atom37_to_torsion_angles(1, 1, &bad, pos.data(), mask.data(), sc.data(), alt.data(), tm.data()),
               axf::Error);
  std::vector<float> pb(3);
  const int32_t ala = 0;
  EXPECT_THROW(pseudo_beta(1, &ala, pos.data(), mask.data(), pb.data(), nullptr), axf::Error);
}

TEST(TemplateGeometry, PseudoBeta) {
  const int n = 4;
  const std::vector<int32_t> aatype = {restype_order('G'), restype_order('A'), restype_order('W'), 20};
  std::vector<float> pos(n * kAtoms * 3), mask(n * kAtoms, 0.f);
  for (size_t k = 0; k < pos.size(); ++k) pos[k] = 0.25f * static_cast<float>(k);
  const int ca = atom37_index("CA"), cb = atom37_index("CB");
  // GLY: CA present, CB absent; ALA: both; TRP: CB missing; UNK: CB only.
  mask[0 * kAtoms + ca] = 1.f;
  mask[1 * kAtoms + ca] = 1.f;
  mask[1 * kAtoms + cb] = 1.f;
  mask[2 * kAtoms + ca] = 1.f;
  mask[3 * kAtoms + cb] = 1.f;
  std::vector<float> pb(n * 3, -1.f), pbm(n, -1.f);
  pseudo_beta(n, aatype.data(), pos.data(), mask.data(), pb.data(), pbm.data());
  const float want_mask[n] = {1.f, 1.f, 0.f, 1.f};
  for (int i = 0; i < n; ++i) {
    const int s = i == 0 ? ca : cb;
    for (int d = 0; d < 3; ++d) EXPECT_EQ(pb[i * 3 + d], pos[(i * kAtoms + s) * 3 + d]) << i;
    EXPECT_EQ(pbm[i], want_mask[i]) << i;
  }
  // Without a mask: positions only, the mask output is left alone.
  std::vector<float> pb2(n * 3, -1.f), untouched(n, -3.f);
  pseudo_beta(n, aatype.data(), pos.data(), nullptr, pb2.data(), untouched.data());
  EXPECT_EQ(pb2, pb);
  for (float v : untouched) EXPECT_EQ(v, -3.f);
}

}  // namespace
}  // namespace axf::model
