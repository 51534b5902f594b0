// Per-element arithmetic of the input features computed on the device (Backend::template_pair_features,
// relative_position_embedding, distogram_embedding, extra_msa_embedding), shared by host and device code so the
// CPU reference and the CUDA kernels give the same bits: every product and sum is rounded on its own (no fused
// multiply-add on the device), in the operation order of the model's host functions.
#pragma once

#include <cstdint>

#include "core/half_precision.h"

#if !defined(__CUDA_ARCH__)
#include <cmath>
#endif

namespace axf::backend::features {

inline constexpr int kTemplateAatypeClasses = 22;
inline constexpr int kTemplateExtraChannels = 1 + 2 * kTemplateAatypeClasses + 3 + 1;  // after the dgram bins
inline constexpr int kMaxDgramBins = 64;
inline constexpr int kExtraMsaFeatures = 25;  // one_hot(extra_msa, 23), has_deletion, deletion_value

AXF_HOST_DEVICE float mul(float a, float b) {
#if defined(__CUDA_ARCH__)
  return __fmul_rn(a, b);
#else
  return a * b;
#endif
}
AXF_HOST_DEVICE float add(float a, float b) {
#if defined(__CUDA_ARCH__)
  return __fadd_rn(a, b);
#else
  return a + b;
#endif
}
AXF_HOST_DEVICE float sub(float a, float b) {
#if defined(__CUDA_ARCH__)
  return __fsub_rn(a, b);
#else
  return a - b;
#endif
}
AXF_HOST_DEVICE float rsqrt_eps(float eps, float x) {  // 1 / sqrt(eps + x), IEEE-rounded at each step
#if defined(__CUDA_ARCH__)
  return __fdiv_rn(1.0f, __fsqrt_rn(__fadd_rn(eps, x)));
#else
  return 1.0f / std::sqrt(eps + x);
#endif
}

// Element access for fp32 and bf16 (stored as its 16-bit pattern) tensors.
AXF_HOST_DEVICE float load(const float* p) { return *p; }
AXF_HOST_DEVICE float load(const uint16_t* p) { return core::bf16_to_float(*p); }
AXF_HOST_DEVICE void store(float* p, float v) { *p = v; }
AXF_HOST_DEVICE void store(uint16_t* p, float v) { *p = core::float_to_bf16(v); }

// ((dx*dx + dy*dy) + dz*dz) for dx = a - b.
AXF_HOST_DEVICE float squared_distance(const float* a, const float* b) {
  const float dx = sub(a[0], b[0]), dy = sub(a[1], b[1]), dz = sub(a[2], b[2]);
  return add(add(mul(dx, dx), mul(dy, dy)), mul(dz, dz));
}

// clamp(ri - rj + R, 0, 2R) without overflow.
AXF_HOST_DEVICE int32_t relative_position_bin(int32_t ri, int32_t rj, int32_t R) {
  const int64_t v = static_cast<int64_t>(ri) - rj + R;
  return static_cast<int32_t>(v < 0 ? 0 : (v > 2 * static_cast<int64_t>(R) ? 2 * static_cast<int64_t>(R) : v));
}

// The first k with lower[k] < d2 < upper[k], or -1 (model::dgram_bins).
AXF_HOST_DEVICE int32_t distogram_bin(float d2, const float* lower, const float* upper, int num_bins) {
  for (int k = 0; k < num_bins; ++k)
    if (d2 > lower[k] && d2 < upper[k]) return k;
  return -1;
}

// Per-residue inputs of one template (device or host pointers, contiguous).
struct TemplateResidues {
  const float* pseudo_beta = nullptr;       // [L, 3]
  const float* pseudo_beta_mask = nullptr;  // [L]
  const float* ca = nullptr;                // [L, 3]
  const float* rotation = nullptr;          // [L, 9]
  const float* backbone_mask = nullptr;     // [L]
  const int32_t* aatype = nullptr;          // [L]
};

// What the features of pair (i, j) are made of (model::template_pair_features' intermediate values).
struct TemplatePair {
  float dist2 = 0, pb_mask = 0, mask_2d = 0;
  float unit[3] = {0, 0, 0};  // before the final multiplication by mask_2d
  int32_t aa_i = -1, aa_j = -1;
};

AXF_HOST_DEVICE TemplatePair template_pair(const TemplateResidues& r, int64_t i, int64_t j, bool use_unit_vector) {
  TemplatePair p;
  p.dist2 = squared_distance(r.pseudo_beta + i * 3, r.pseudo_beta + j * 3);
  p.pb_mask = mul(r.pseudo_beta_mask[i], r.pseudo_beta_mask[j]);
  p.aa_i = r.aatype[i];
  p.aa_j = r.aatype[j];
  p.mask_2d = mul(r.backbone_mask[i], r.backbone_mask[j]);
  if (use_unit_vector) {
    // QuatAffine.invert_point: M_i (CA_j - CA_i), then * rsqrt(1e-6 + |v|^2) * backbone mask 2-D.
    const float* ci = r.ca + i * 3;
    const float* cj = r.ca + j * 3;
    const float* m = r.rotation + i * 9;
    const float vx = sub(cj[0], ci[0]), vy = sub(cj[1], ci[1]), vz = sub(cj[2], ci[2]);
    const float lx = add(add(mul(m[0], vx), mul(m[1], vy)), mul(m[2], vz));
    const float ly = add(add(mul(m[3], vx), mul(m[4], vy)), mul(m[5], vz));
    const float lz = add(add(mul(m[6], vx), mul(m[7], vy)), mul(m[8], vz));
    const float inv = rsqrt_eps(1e-6f, add(add(mul(lx, lx), mul(ly, ly)), mul(lz, lz)));
    const float scale = mul(inv, p.mask_2d);
    p.unit[0] = mul(lx, scale);
    p.unit[1] = mul(ly, scale);
    p.unit[2] = mul(lz, scale);
  }
  return p;
}

// Channel c of the template pair features (layout in model/template_embedding.h), final mask included.
AXF_HOST_DEVICE float template_feature(const TemplatePair& p, int c, const float* lower, const float* upper,
                                       int num_bins) {
  float v;
  if (c < num_bins) {
    v = mul(p.dist2 > lower[c] ? 1.f : 0.f, p.dist2 < upper[c] ? 1.f : 0.f);
  } else if (c == num_bins) {
    v = p.pb_mask;
  } else if (c < num_bins + 1 + kTemplateAatypeClasses) {
    v = p.aa_j == c - (num_bins + 1) ? 1.f : 0.f;
  } else if (c < num_bins + 1 + 2 * kTemplateAatypeClasses) {
    v = p.aa_i == c - (num_bins + 1 + kTemplateAatypeClasses) ? 1.f : 0.f;
  } else if (c < num_bins + 1 + 2 * kTemplateAatypeClasses + 3) {
    v = p.unit[c - (num_bins + 1 + 2 * kTemplateAatypeClasses)];
  } else {
    v = p.mask_2d;
  }
  return mul(v, p.mask_2d);
}

}  // namespace axf::backend::features
