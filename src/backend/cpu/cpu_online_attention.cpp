// CPU backend: the online softmax over keys given one at a time (attention_accumulate, attention_normalize; the
// reference for kernels/online_attention.cu). Scores, exponentials and the update in double, the state stored in
// fp32.
#include <algorithm>
#include <cmath>
#include <limits>

#include "backend/cpu/cpu_backend.h"
#include "backend/online_attention_checks.h"
#include "core/error.h"

namespace axf::backend::cpu {

namespace {

// Element access of a host fp32 tensor of 2 or 3 dims (dense last dim for 3 dims).
struct Rows {
  float* p;
  int64_t s0, s1;
  Rows(const Tensor& t, const char* op, const char* what) {
    AXF_CHECK(t.dtype() == DType::F32, op, ": the CPU backend computes in fp32, ", what, " is ", t.describe());
    p = t.data<float>();
    s0 = t.stride(0);
    s1 = t.stride(1);
  }
  float* at(int64_t b, int64_t h) const { return p + b * s0 + h * s1; }
};

}  // namespace

void CpuBackend::attention_accumulate(const OnlineAttentionArgs& a) {
  const OnlineAttentionDims d = check_attention_accumulate(a, core::Device::CPU);
  constexpr const char* op = "attention_accumulate";
  const Rows q(a.q, op, "q"), k(a.k, op, "k"), v(a.v, op, "v"), acc(a.acc, op, "acc");
  const Rows m(a.m, op, "m"), l(a.l, op, "l");
  const int64_t H = d.H, D = d.D, Dv = d.Dv;
  const double scale = a.scale;
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < d.B * H; ++r) {
    const int64_t b = r / H, h = r - b * H;
    const float* qr = q.at(b, h);
    const float* kr = k.at(b, h);
    double dot = 0;
    for (int64_t c = 0; c < D; ++c) dot += static_cast<double>(qr[c]) * kr[c];
    const double s = scale * dot;
    float* mp = m.at(b, h);
    float* lp = l.at(b, h);
    const float* vr = v.at(b, h);
    float* ar = acc.at(b, h);
    // The reference point is stored in fp32; every exponent is taken against that stored value, so the state stays
    // sum_t exp(s_t - m) v_t with the scores in double.
    const float m_old = *mp, m_new = std::max(m_old, static_cast<float>(s));
    const double p = std::exp(s - m_new);
    if (m_old == -std::numeric_limits<float>::infinity()) {
      // The empty state: acc and l are not read (they may hold anything).
      for (int64_t c = 0; c < Dv; ++c) ar[c] = static_cast<float>(p * vr[c]);
      *lp = static_cast<float>(p);
    } else {
      const double alpha = std::exp(static_cast<double>(m_old) - m_new);
      for (int64_t c = 0; c < Dv; ++c) ar[c] = static_cast<float>(ar[c] * alpha + p * vr[c]);
      *lp = static_cast<float>(*lp * alpha + p);
    }
    *mp = m_new;
  }
}

void CpuBackend::attention_normalize(const Tensor& acc_t, const Tensor& l_t, Tensor& out_t) {
  const OnlineAttentionDims d = check_attention_normalize(acc_t, l_t, out_t, core::Device::CPU);
  constexpr const char* op = "attention_normalize";
  const Rows acc(acc_t, op, "acc"), l(l_t, op, "l"), out(out_t, op, "out");
  const int64_t H = d.H, Dv = d.Dv;
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < d.B * H; ++r) {
    const int64_t b = r / H, h = r - b * H;
    const double sum = *l.at(b, h);
    const float* ar = acc.at(b, h);
    float* o = out.at(b, h);
    for (int64_t c = 0; c < Dv; ++c) o[c] = static_cast<float>(ar[c] / sum);
  }
}

}  // namespace axf::backend::cpu
