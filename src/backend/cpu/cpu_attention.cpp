// CPU backend: gated multi-head attention with key mask and shared bias (reference for the flash kernels).
#include <cblas.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "backend/cpu/cpu_backend.h"
#include "core/error.h"

namespace axf::backend::cpu {

namespace {
// Element pointer of a 4-D tensor [d0, d1, d2, d3] with a dense last dim.
struct View4 {
  float* p;
  int64_t s0, s1, s2;
  View4(const Tensor& t, const char* what) {
    AXF_CHECK(t.ndim() == 4 && t.dtype() == DType::F32 && t.device() == core::Device::CPU, "attention: ", what,
              " must be a host fp32 4-D tensor, got ", t.describe());
    AXF_CHECK(t.size(3) <= 1 || t.stride(3) == 1, "attention: last dim of ", what, " must be dense");
    p = t.data<float>();
    s0 = t.stride(0);
    s1 = t.stride(1);
    s2 = t.stride(2);
  }
  float* at(int64_t a, int64_t b, int64_t c) const { return p + a * s0 + b * s1 + c * s2; }
};
}  // namespace

void CpuBackend::attention(const AttentionArgs& a) {
  View4 q(a.q, "q"), k(a.k, "k"), v(a.v, "v"), out(a.out, "out");
  const int64_t B = a.q.size(0), Q = a.q.size(1), H = a.q.size(2), D = a.q.size(3);
  const int64_t K = a.k.size(1), Hk = a.k.size(2), Dv = a.v.size(3);
  AXF_CHECK(a.k.size(0) == B && a.k.size(3) == D && (Hk == H || Hk == 1), "attention: k ", a.k.describe(),
            " does not match q ", a.q.describe());
  AXF_CHECK(a.v.size(0) == B && a.v.size(1) == K && a.v.size(2) == Hk, "attention: v ", a.v.describe(),
            " does not match k ", a.k.describe());
  AXF_CHECK(a.out.shape() == Shape({B, Q, H, Dv}), "attention: out ", a.out.describe(), " should be ",
            core::shape_to_string({B, Q, H, Dv}));
  const float* mask = nullptr;
  int64_t mask_bstride = 0, mask_kstride = 0;
  if (a.key_mask.defined()) {
    AXF_CHECK(a.key_mask.ndim() == 2 && (a.key_mask.size(0) == B || a.key_mask.size(0) == 1) &&
                  a.key_mask.size(1) == K && a.key_mask.dtype() == DType::F32,
              "attention: key mask ", a.key_mask.describe(), " for B=", B, ", K=", K);
    mask = a.key_mask.data<float>();
    mask_bstride = a.key_mask.size(0) == 1 ? 0 : a.key_mask.stride(0);
    mask_kstride = a.key_mask.stride(1);
  }
  const float* bias = nullptr;
  int64_t bs0 = 0, bs1 = 0, bs2 = 0;
  if (a.bias.defined()) {
    AXF_CHECK(a.bias.shape() == Shape({H, Q, K}) && a.bias.dtype() == DType::F32, "attention: bias ",
              a.bias.describe(), " should be ", core::shape_to_string({H, Q, K}));
    bias = a.bias.data<float>();
    bs0 = a.bias.stride(0);
    bs1 = a.bias.stride(1);
    bs2 = a.bias.stride(2);
  }
  const bool gated = a.gate.defined();
  if (gated)
    AXF_CHECK(a.gate.shape() == a.out.shape(), "attention: gate ", a.gate.describe(), " vs out ", a.out.describe());
  const View4 gate = gated ? View4(a.gate, "gate") : out;
  if (B == 0 || Q == 0) return;
  AXF_CHECK(K > 0, "attention with no keys");

#pragma omp parallel
  {
    std::vector<float> logits(static_cast<size_t>(Q * K)), result(static_cast<size_t>(Q * Dv));
#pragma omp for collapse(2) schedule(dynamic)
    for (int64_t b = 0; b < B; ++b) {
      for (int64_t h = 0; h < H; ++h) {
        const int64_t hk = Hk == 1 ? 0 : h;
        // logits = scale * q_bh @ k_bh^T
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<int>(Q), static_cast<int>(K),
                    static_cast<int>(D), a.scale, q.at(b, 0, h), static_cast<int>(q.s1), k.at(b, 0, hk),
                    static_cast<int>(k.s1), 0.0f, logits.data(), static_cast<int>(K));
        for (int64_t i = 0; i < Q; ++i) {
          float* row = logits.data() + i * K;
          if (bias) {
            const float* brow = bias + h * bs0 + i * bs1;
            for (int64_t j = 0; j < K; ++j) row[j] += brow[j * bs2];
          }
          if (mask) {
            const float* mrow = mask + b * mask_bstride;
            for (int64_t j = 0; j < K; ++j)
              if (mrow[j * mask_kstride] == 0.f) row[j] = -1e9f;
          }
          float mx = row[0];
          for (int64_t j = 1; j < K; ++j) mx = std::max(mx, row[j]);
          double sum = 0;
          for (int64_t j = 0; j < K; ++j) {
            row[j] = std::exp(row[j] - mx);
            sum += row[j];
          }
          const float inv = static_cast<float>(1.0 / sum);
          for (int64_t j = 0; j < K; ++j) row[j] *= inv;
        }
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, static_cast<int>(Q), static_cast<int>(Dv),
                    static_cast<int>(K), 1.0f, logits.data(), static_cast<int>(K), v.at(b, 0, hk),
                    static_cast<int>(v.s1), 0.0f, result.data(), static_cast<int>(Dv));
        for (int64_t i = 0; i < Q; ++i) {
          float* o = out.at(b, i, h);
          const float* r = result.data() + i * Dv;
          if (gated) {
            const float* g = gate.at(b, i, h);
            for (int64_t c = 0; c < Dv; ++c) o[c] = r[c] * (1.0f / (1.0f + std::exp(-g[c])));
          } else {
            for (int64_t c = 0; c < Dv; ++c) o[c] = r[c];
          }
        }
      }
    }
  }
}

}  // namespace axf::backend::cpu
