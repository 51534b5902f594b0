#include "kernels/online_attention.cuh"

#include "backend/cuda/cuda_check.h"
#include "kernels/elem_io.cuh"

namespace axf::kernels {

namespace {

constexpr int kGroup = 8;  // lanes per (b, h) row; a power of two dividing 32
constexpr int kThreads = 256;
constexpr int kRowsPerBlock = kThreads / kGroup;
constexpr int kNormalizeThreads = 256;

template <class T, class A>
__global__ void __launch_bounds__(kThreads) attention_accumulate_kernel(const OnlineAttentionParams p) {
  const int lane = static_cast<int>(threadIdx.x % kGroup);
  const int64_t r = static_cast<int64_t>(blockIdx.x) * kRowsPerBlock + threadIdx.x / kGroup;
  const bool valid = r < p.B * p.H;
  const int64_t b = valid ? r / p.H : 0, h = valid ? r - b * p.H : 0;
  float dot = 0.f, m_old = 0.f, l_old = 0.f;
  if (valid) {
    // The state is read before the shuffles below, which every lane of the warp passes before lane 0 stores it.
    m_old = p.m[b * p.m_s0 + h * p.m_s1];
    l_old = p.l[b * p.l_s0 + h * p.l_s1];
    const T* q = static_cast<const T*>(p.q) + b * p.q_s0 + h * p.q_s1;
    const T* k = static_cast<const T*>(p.k) + b * p.k_s0 + h * p.k_s1;
    for (int64_t c = lane; c < p.D; c += kGroup) dot += ld(q + c) * ld(k + c);
  }
#pragma unroll
  for (int o = kGroup / 2; o > 0; o >>= 1) dot += __shfl_xor_sync(0xffffffffu, dot, o);
  if (!valid) return;
  const float s = p.scale * dot;
  const float m_new = fmaxf(m_old, s);
  const bool empty = m_old == -INFINITY;  // the empty state: acc and l are not read
  const float alpha = empty ? 0.f : expf(m_old - m_new);
  const float e = expf(s - m_new);
  const T* v = static_cast<const T*>(p.v) + b * p.v_s0 + h * p.v_s1;
  A* acc = static_cast<A*>(p.acc) + b * p.acc_s0 + h * p.acc_s1;
  for (int64_t c = lane; c < p.Dv; c += kGroup) {
    const float prev = empty ? 0.f : ld(acc + c);
    st(acc + c, prev * alpha + e * ld(v + c));
  }
  if (lane == 0) {
    p.m[b * p.m_s0 + h * p.m_s1] = m_new;
    p.l[b * p.l_s0 + h * p.l_s1] = (empty ? 0.f : l_old * alpha) + e;
  }
}

template <class A, class O>
__global__ void __launch_bounds__(kNormalizeThreads) attention_normalize_kernel(const AttentionNormalizeParams p) {
  const int64_t e = static_cast<int64_t>(blockIdx.x) * kNormalizeThreads + threadIdx.x;
  if (e >= p.B * p.H * p.Dv) return;
  const int64_t r = e / p.Dv, c = e - r * p.Dv;
  const int64_t b = r / p.H, h = r - b * p.H;
  const float sum = p.l[b * p.l_s0 + h * p.l_s1];
  const float x = ld(static_cast<const A*>(p.acc) + b * p.acc_s0 + h * p.acc_s1 + c);
  st(static_cast<O*>(p.out) + b * p.out_s0 + h * p.out_s1 + c, x / sum);
}

}  // namespace

void launch_attention_accumulate(const OnlineAttentionParams& p, cudaStream_t stream) {
  const int64_t rows = p.B * p.H;
  if (rows == 0) return;
  const int64_t blocks = (rows + kRowsPerBlock - 1) / kRowsPerBlock;
  AXF_CHECK(blocks <= 0x7fffffffll, "attention_accumulate: ", rows, " rows exceed the grid limit");
  dispatch_float_types(p.qkv_type, p.acc_type, "attention_accumulate", [&](auto t, auto a) {
    attention_accumulate_kernel<decltype(t), decltype(a)>
        <<<static_cast<unsigned>(blocks), kThreads, 0, stream>>>(p);
  });
  AXF_CUDA_CHECK_LAUNCH("attention_accumulate_kernel");
}

void launch_attention_normalize(const AttentionNormalizeParams& p, cudaStream_t stream) {
  const int64_t n = p.B * p.H * p.Dv;
  if (n == 0) return;
  const int64_t blocks = (n + kNormalizeThreads - 1) / kNormalizeThreads;
  AXF_CHECK(blocks <= 0x7fffffffll, "attention_normalize: ", n, " elements exceed the grid limit");
  dispatch_float_types(p.acc_type, p.out_type, "attention_normalize", [&](auto a, auto o) {
    attention_normalize_kernel<decltype(a), decltype(o)>
        <<<static_cast<unsigned>(blocks), kNormalizeThreads, 0, stream>>>(p);
  });
  AXF_CUDA_CHECK_LAUNCH("attention_normalize_kernel");
}

}  // namespace axf::kernels
