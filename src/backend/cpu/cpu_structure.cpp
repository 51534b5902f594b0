// CPU backend: the structure module's invariant point attention core and backbone update (the reference for
// kernels/invariant_point_attention.cu and kernels/backbone_update.cu). Logits, softmax and the scalar/point sums in
// double from fp32 inputs; the pair-weighted sum as one fp32 [H, L] x [L, cz] product per query row (a bf16 pair's
// row widened to fp32 first).
#include <cblas.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "backend/cpu/cpu_backend.h"
#include "backend/frame_math.h"
#include "backend/structure_ops.h"
#include "core/error.h"
#include "core/half_precision.h"

namespace axf::backend::cpu {

void CpuBackend::invariant_point_attention(const IpaArgs& a) {
  const IpaDims dims = check_ipa_args(a, core::Device::CPU);
  const int64_t L = dims.L, H = dims.H, sqk = dims.sqk, sv = dims.sv, pqk = dims.pqk, pv = dims.pv, cz = dims.cz;
  if (L == 0) return;
  const int64_t pkv = pqk + pv;
  const float* q_scalar = a.q_scalar.data<float>();    // [L, H, sqk]
  const float* kv_scalar = a.kv_scalar.data<float>();  // [L, H, sqk + sv]
  const float* q_point = a.q_point.data<float>();      // [L, 3, H, pqk]
  const float* kv_point = a.kv_point.data<float>();    // [L, 3, H, pkv]
  const float* affines = a.affines.data<float>();
  const float* m = a.mask.data<float>();
  const float* pw = a.point_weights.data<float>();
  const float* bias_2d = a.bias_2d.data<float>();
  const int64_t bs0 = a.bias_2d.stride(0), bs1 = a.bias_2d.stride(1);
  const bool pair_bf16 = a.pair.dtype() == DType::BF16;
  const float* pair = pair_bf16 ? nullptr : a.pair.data<float>();
  const uint16_t* pair_b = pair_bf16 ? a.pair.data<uint16_t>() : nullptr;
  const int64_t ps0 = a.pair.stride(0), ps1 = a.pair.stride(1);
  AXF_CHECK(L <= 1 || cz <= 1 || ps1 >= cz, "invariant point attention: rows of pair ", a.pair.describe(),
            " overlap");
  float* out = a.out.data<float>();
  const int64_t os0 = a.out.stride(0);
  const double scalar_weight = a.scalar_weight, attention_2d_weight = a.attention_2d_weight;

  // Frames (float rotation from the quaternion, as QuatAffine keeps it) and the points in the global frame.
  std::vector<float> rot(static_cast<size_t>(L * 9));
  for (int64_t i = 0; i < L; ++i) frame::quat_to_rot(affines + i * 7, &rot[i * 9]);
  std::vector<double> q_glob(static_cast<size_t>(L * H * pqk * 3)), kv_glob(static_cast<size_t>(L * H * pkv * 3));
  for (int64_t i = 0; i < L; ++i) {
    const float* r = &rot[i * 9];
    const float* t = affines + i * 7 + 4;
    auto to_global = [&](const float* row, int64_t width, int64_t col, double* g) {
      const double x = row[col], y = row[width + col], z = row[2 * width + col];
      for (int d = 0; d < 3; ++d) g[d] = r[d * 3] * x + r[d * 3 + 1] * y + r[d * 3 + 2] * z + t[d];
    };
    for (int64_t c = 0; c < H * pqk; ++c)
      to_global(q_point + i * 3 * H * pqk, H * pqk, c, &q_glob[(i * H * pqk + c) * 3]);
    for (int64_t c = 0; c < H * pkv; ++c)
      to_global(kv_point + i * 3 * H * pkv, H * pkv, c, &kv_glob[(i * H * pkv + c) * 3]);
  }

  const int64_t f_points = H * sv, f_norms = f_points + 3 * H * pv, f_pair = f_norms + H * pv;
#pragma omp parallel
  {
    std::vector<double> w(static_cast<size_t>(L));
    std::vector<float> attn(static_cast<size_t>(H * L));  // this row's weights [H, L]
    std::vector<float> pair_row(static_cast<size_t>(pair_bf16 ? L * cz : 0));  // a bf16 pair's row i in fp32
#pragma omp for schedule(static)
    for (int64_t i = 0; i < L; ++i) {
      const float* r = &rot[i * 9];
      const float* t = affines + i * 7 + 4;
      float* orow = out + i * os0;
      for (int64_t h = 0; h < H; ++h) {
        const float* q = q_scalar + (i * H + h) * sqk;
        const double* qp = &q_glob[(i * H + h) * pqk * 3];
        const double point_weight = pw[h];
        double max_logit = -INFINITY;
        for (int64_t j = 0; j < L; ++j) {
          const float* k = kv_scalar + (j * H + h) * (sqk + sv);
          double dot = 0;
          for (int64_t c = 0; c < sqk; ++c) dot += static_cast<double>(q[c]) * k[c];
          const double* kp = &kv_glob[(j * H + h) * pkv * 3];
          double dist2 = 0;
          for (int64_t p = 0; p < pqk * 3; ++p) dist2 += (qp[p] - kp[p]) * (qp[p] - kp[p]);
          double logit = scalar_weight * dot - 0.5 * point_weight * dist2 +
                         attention_2d_weight * bias_2d[i * bs0 + j * bs1 + h];
          logit -= 1e5 * (1.0 - static_cast<double>(m[i]) * m[j]);
          w[j] = logit;
          max_logit = std::max(max_logit, logit);
        }
        double sum = 0;
        for (int64_t j = 0; j < L; ++j) sum += (w[j] = std::exp(w[j] - max_logit));
        for (int64_t j = 0; j < L; ++j) {
          w[j] /= sum;
          attn[h * L + j] = static_cast<float>(w[j]);
        }

        for (int64_t c = 0; c < sv; ++c) {
          double acc = 0;
          for (int64_t j = 0; j < L; ++j) acc += w[j] * kv_scalar[(j * H + h) * (sqk + sv) + sqk + c];
          orow[h * sv + c] = static_cast<float>(acc);
        }
        for (int64_t p = 0; p < pv; ++p) {
          double g[3] = {0, 0, 0};
          for (int64_t j = 0; j < L; ++j) {
            const double* vp = &kv_glob[((j * H + h) * pkv + pqk + p) * 3];
            for (int d = 0; d < 3; ++d) g[d] += w[j] * vp[d];
          }
          // invert_point: back into the query residue's local frame, R_i^T (g - t_i).
          for (int d = 0; d < 3; ++d) g[d] -= t[d];
          double norm2 = 0;
          for (int d = 0; d < 3; ++d) {
            const double local = r[d] * g[0] + r[3 + d] * g[1] + r[6 + d] * g[2];
            orow[f_points + d * H * pv + h * pv + p] = static_cast<float>(local);
            norm2 += local * local;
          }
          orow[f_norms + h * pv + p] = static_cast<float>(std::sqrt(1e-8 + norm2));
        }
      }
      // result_attention_over_2d = einsum('hij,ijc->ihc', attn, pair) for this row: [H, L] x [L, cz].
      if (cz > 0 && pair_bf16) {
        for (int64_t j = 0; j < L; ++j)
          for (int64_t c = 0; c < cz; ++c) pair_row[j * cz + c] = core::bf16_to_float(pair_b[i * ps0 + j * ps1 + c]);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, static_cast<int>(H), static_cast<int>(cz),
                    static_cast<int>(L), 1.0f, attn.data(), static_cast<int>(L), pair_row.data(),
                    static_cast<int>(cz), 0.0f, orow + f_pair, static_cast<int>(cz));
      } else if (cz > 0) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, static_cast<int>(H), static_cast<int>(cz),
                    static_cast<int>(L), 1.0f, attn.data(), static_cast<int>(L), pair + i * ps0,
                    static_cast<int>(L > 1 ? ps1 : cz), 0.0f, orow + f_pair, static_cast<int>(cz));
      }
    }
  }
}

void CpuBackend::backbone_update(Tensor& affines, const Tensor& update) {
  const int64_t L = check_backbone_update_args(affines, update, core::Device::CPU);
  float* a = affines.data<float>();
  const float* u = update.data<float>();
  for (int64_t i = 0; i < L; ++i) frame::pre_compose(a + i * 7, u + i * 6, a + i * 7);
}

}  // namespace axf::backend::cpu
