// Synthetic model inputs (see synthetic_inputs.h).
#include "model/synthetic_inputs.h"

#include <array>
#include <cmath>
#include <vector>

#include "core/error.h"
#include "core/random.h"
#include "model/residue_constants.h"

namespace axf::model {

namespace {

using core::DType;
using Vec3 = std::array<double, 3>;

constexpr int kGap = 21;         // gap token of the MSA and template alphabets
constexpr int kGlycine = 7;      // restype index of G (no CB)
constexpr double kDeg = M_PI / 180.0;

Vec3 sub(const Vec3& a, const Vec3& b) { return {a[0] - b[0], a[1] - b[1], a[2] - b[2]}; }
Vec3 cross(const Vec3& a, const Vec3& b) {
  return {a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]};
}
Vec3 unit(const Vec3& a) {
  const double n = std::sqrt(a[0] * a[0] + a[1] * a[1] + a[2] * a[2]) + 1e-12;
  return {a[0] / n, a[1] / n, a[2] / n};
}

// NeRF: the point d with |cd| = bond, angle(b, c, d) = angle and dihedral(a, b, c, d) = torsion (radians).
Vec3 place(const Vec3& a, const Vec3& b, const Vec3& c, double bond, double angle, double torsion) {
  const Vec3 bc = unit(sub(c, b));
  const Vec3 n = unit(cross(sub(b, a), bc));
  const Vec3 m = cross(n, bc);
  const double x = -bond * std::cos(angle), y = bond * std::sin(angle) * std::cos(torsion),
               z = bond * std::sin(angle) * std::sin(torsion);
  return {c[0] + x * bc[0] + y * m[0] + z * n[0], c[1] + x * bc[1] + y * m[1] + z * n[1],
          c[2] + x * bc[2] + y * m[2] + z * n[2]};
}

struct Backbone {
  std::vector<Vec3> n, ca, c, o, cb;
};

// Ideal bond lengths and angles (Engh & Huber), trans peptides, phi/psi per secondary-structure segment.
Backbone make_backbone(int64_t L, core::Random& rng) {
  std::vector<double> phi(L), psi(L);
  for (int64_t i = 0; i < L;) {
    const int64_t len = 4 + static_cast<int64_t>(rng.below(14));
    const uint64_t kind = rng.below(3);  // helix, strand, coil
    for (int64_t k = 0; k < len && i < L; ++k, ++i) {
      double p = -57, s = -47;
      if (kind == 1) {
        p = -120;
        s = 130;
      } else if (kind == 2) {
        p = -70 + 30 * rng.normal();
        s = rng.uniform() < 0.5 ? 140 + 25 * rng.normal() : -35 + 20 * rng.normal();
      }
      phi[i] = (p + 8 * rng.normal()) * kDeg;
      psi[i] = (s + 8 * rng.normal()) * kDeg;
    }
  }
  Backbone bb;
  bb.n.resize(L);
  bb.ca.resize(L);
  bb.c.resize(L);
  bb.o.resize(L);
  bb.cb.resize(L);
  bb.n[0] = {0, 0, 0};
  bb.ca[0] = {1.458, 0, 0};
  bb.c[0] = {1.458 - 1.525 * std::cos(111.2 * kDeg), 1.525 * std::sin(111.2 * kDeg), 0};
  for (int64_t i = 1; i < L; ++i) {
    bb.n[i] = place(bb.n[i - 1], bb.ca[i - 1], bb.c[i - 1], 1.329, 116.2 * kDeg, psi[i - 1]);
    bb.ca[i] = place(bb.ca[i - 1], bb.c[i - 1], bb.n[i], 1.458, 121.7 * kDeg, M_PI);
    bb.c[i] = place(bb.c[i - 1], bb.n[i], bb.ca[i], 1.525, 111.2 * kDeg, phi[i]);
  }
  for (int64_t i = 0; i < L; ++i) {
    bb.o[i] = place(bb.n[i], bb.ca[i], bb.c[i], 1.231, 120.5 * kDeg, psi[i] + M_PI);
    bb.cb[i] = place(bb.c[i], bb.n[i], bb.ca[i], 1.526, 110.5 * kDeg, -122.6 * kDeg);
  }
  return bb;
}

// A mutated copy of the query: each residue kept with probability `identity`, else a random amino acid or (5 %)
// a gap.
std::vector<int32_t> mutate(const std::vector<int32_t>& query, double identity, core::Random& rng) {
  std::vector<int32_t> s(query.size());
  for (size_t i = 0; i < query.size(); ++i) {
    if (rng.uniform() < identity) {
      s[i] = query[i];
    } else {
      s[i] = rng.uniform() < 0.1 ? kGap : static_cast<int32_t>(rng.below(20));
    }
  }
  return s;
}

// AlphaFold's deletion_value transform: 2/pi * arctan(d / 3).
float deletion_value(int count) { return static_cast<float>(2.0 / M_PI * std::atan(count / 3.0)); }

}  // namespace

std::map<std::string, Tensor> synthetic_feature_arrays(const SyntheticInputSpec& spec) {
  const int64_t L = spec.num_res, S = spec.num_msa, E = spec.num_extra, T = spec.num_templates;
  AXF_CHECK(L > 0 && S > 0 && E >= 0 && T >= 0, "synthetic inputs: need L > 0, S > 0, E >= 0, T >= 0; got L=", L,
            " S=", S, " E=", E, " T=", T);
  core::Random rng(spec.seed * 0x2545f4914f6cdd1dull + 17);
  std::map<std::string, Tensor> a;

  std::vector<int32_t> query(L);
  Tensor aatype = Tensor::empty({L}, DType::I32), residue_index = Tensor::empty({L}, DType::I32);
  Tensor target = Tensor::zeros({L, 22});
  for (int64_t i = 0; i < L; ++i) {
    query[i] = static_cast<int32_t>(rng.below(20));
    aatype.data<int32_t>()[i] = query[i];
    residue_index.data<int32_t>()[i] = static_cast<int32_t>(i);
    target.data<float>()[i * 22 + 1 + query[i]] = 1.f;  // channel 0: between_segment_residues
  }
  a["aatype"] = aatype;
  a["residue_index"] = residue_index;
  a["seq_mask"] = Tensor::full({L}, 1.f);
  a["target_feat"] = target;

  // Clusters: msa_feat channels [0, 23) one-hot residue, 23 has_deletion, 24 deletion_value, [25, 48) cluster
  // profile, 48 deletion_mean (AlphaFold's make_msa_feat order).
  Tensor msa_feat = Tensor::zeros({S, L, 49});
  for (int64_t s = 0; s < S; ++s) {
    const std::vector<int32_t> seq = s == 0 ? query : mutate(query, 0.3 + 0.6 * rng.uniform(), rng);
    for (int64_t i = 0; i < L; ++i) {
      float* v = msa_feat.data<float>() + (s * L + i) * 49;
      v[seq[i]] = 1.f;
      if (s > 0 && rng.uniform() < 0.05) {
        v[23] = 1.f;
        v[24] = deletion_value(1 + static_cast<int>(rng.below(5)));
      }
      // Profile: half on the cluster's own residue, the rest spread over a few random classes.
      v[25 + seq[i]] += 0.5f;
      for (int k = 0; k < 5; ++k) v[25 + rng.below(22)] += 0.1f;
      v[48] = static_cast<float>(0.1 * rng.uniform());
    }
  }
  a["msa_feat"] = msa_feat;
  a["msa_mask"] = Tensor::full({S, L}, 1.f);

  Tensor extra = Tensor::empty({E, L}, DType::I32), has_del = Tensor::zeros({E, L}), del_val = Tensor::zeros({E, L});
  for (int64_t e = 0; e < E; ++e) {
    const std::vector<int32_t> seq = mutate(query, 0.2 + 0.7 * rng.uniform(), rng);
    for (int64_t i = 0; i < L; ++i) {
      extra.data<int32_t>()[e * L + i] = seq[i];
      if (rng.uniform() < 0.05) {
        has_del.data<float>()[e * L + i] = 1.f;
        del_val.data<float>()[e * L + i] = deletion_value(1 + static_cast<int>(rng.below(5)));
      }
    }
  }
  a["extra_msa"] = extra;
  a["extra_msa_mask"] = Tensor::full({E, L}, 1.f);
  a["extra_has_deletion"] = has_del;
  a["extra_deletion_value"] = del_val;

  if (T > 0) {
    const int n_atom = atom37_index("N"), ca_atom = atom37_index("CA"), c_atom = atom37_index("C"),
              o_atom = atom37_index("O"), cb_atom = atom37_index("CB");
    Tensor taa = Tensor::empty({T, L}, DType::I32), pos = Tensor::zeros({T, L, 37, 3}), mask = Tensor::zeros({T, L, 37});
    for (int64_t t = 0; t < T; ++t) {
      // Each template covers a stretch of 60-100 % of the query; outside it: gaps without atoms.
      const int64_t covered = std::max<int64_t>(1, static_cast<int64_t>(L * (0.6 + 0.4 * rng.uniform())));
      const int64_t begin = static_cast<int64_t>(rng.below(static_cast<uint64_t>(L - covered + 1)));
      const Backbone bb = make_backbone(covered, rng);
      const std::vector<int32_t> seq = mutate(query, 0.4 + 0.5 * rng.uniform(), rng);
      for (int64_t i = 0; i < L; ++i) {
        const int64_t k = i - begin;
        const bool present = k >= 0 && k < covered && seq[i] != kGap;
        taa.data<int32_t>()[t * L + i] = present ? seq[i] : kGap;
        if (!present) continue;
        float* p = pos.data<float>() + (t * L + i) * 37 * 3;
        float* m = mask.data<float>() + (t * L + i) * 37;
        auto put = [&](int atom, const Vec3& x) {
          for (int d = 0; d < 3; ++d) p[atom * 3 + d] = static_cast<float>(x[d]);
          m[atom] = 1.f;
        };
        put(n_atom, bb.n[k]);
        put(ca_atom, bb.ca[k]);
        put(c_atom, bb.c[k]);
        put(o_atom, bb.o[k]);
        if (seq[i] != kGlycine) put(cb_atom, bb.cb[k]);
      }
    }
    a["template_aatype"] = taa;
    a["template_all_atom_positions"] = pos;
    a["template_all_atom_mask"] = mask;
    a["template_mask"] = Tensor::full({T}, 1.f);
  }
  return a;
}

ModelInputs synthetic_model_inputs(const SyntheticInputSpec& spec) {
  return model_inputs_from_arrays(synthetic_feature_arrays(spec), "synthetic inputs");
}

}  // namespace axf::model
