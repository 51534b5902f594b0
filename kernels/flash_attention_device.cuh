// Device pieces shared by the flash-attention kernels (flash_attention.cu: fp32 FFMA and bf16 mma.sync kernels;
// flash_attention_sm90.cu: the bf16 wgmma kernel): tile sizes, AlphaFold's masked logit, the SFU exponentials that
// turn logits into P, bf16 bit conversions and which (batch, head, query tile) a block owns.
#pragma once

#include <cuda_bf16.h>

#include <cstdint>

#include "kernels/flash_attention.cuh"
#include "kernels/rows.cuh"

namespace axf::kernels::flash {

constexpr int kBM = 64;     // query rows per slab (mma.sync) or per warpgroup (wgmma)
constexpr int kBN = 64;     // keys per tile
constexpr int kStages = 2;  // key/value tiles in shared memory: the next one loads (cp.async) during this one
constexpr float kLog2e = 1.4426950408889634f;
constexpr float kMaskedLogit = -1e9f;  // AlphaFold's logit for masked keys

// 2^x on the SFU; -inf gives +0.
__device__ __forceinline__ float exp2_approx(float x) {
  float y;
  asm("ex2.approx.ftz.f32 %0, %1;" : "=f"(y) : "f"(x));
  return y;
}

__device__ __forceinline__ float sigmoid(float x) { return 1.0f / (1.0f + expf(-x)); }

__device__ __forceinline__ float bf16_bits_to_float(uint16_t h) { return __uint_as_float(uint32_t{h} << 16); }
__device__ __forceinline__ uint16_t float_to_bf16_bits(float x) {
  return __bfloat16_as_ushort(__float2bfloat16_rn(x));
}

// 2^lo and 2^hi rounded to bf16 as one bf16x2 register (lo in the low half), P's A-fragment form: two fp32 SFU
// exponentials and one packing conversion. (sm_90's ex2.approx.ftz.bf16x2 is no cheaper: it compiles to the same
// two SFU instructions plus the packing of its arguments and of its two 16-bit results.)
__device__ __forceinline__ uint32_t exp2_bf16x2(float lo, float hi) {
  uint32_t x;
  asm("cvt.rn.bf16x2.f32 %0, %1, %2;" : "=r"(x) : "f"(exp2_approx(hi)), "f"(exp2_approx(lo)));
  return x;
}

// ---- One 16-row slab of a 64-key tile in the mma accumulator layout: s[nb][e] holds row g (e < 2) or g + 8
// (e >= 2) of the slab and key 8 nb + 2t + (e & 1) of the tile, for lane = 4g + t.

// Masked keys (Ms[key] == 0, the tile's key mask in shared memory) get AlphaFold's -1e9 logit, after the bias.
__device__ __forceinline__ void mask_slab_keys(float (&s)[8][4], const float* Ms, int t) {
#pragma unroll
  for (int nb = 0; nb < 8; ++nb) {
    const float2 mk = *reinterpret_cast<const float2*>(Ms + nb * 8 + 2 * t);
#pragma unroll
    for (int e = 0; e < 4; ++e) s[nb][e] = (e & 1 ? mk.y : mk.x) == 0.f ? kMaskedLogit : s[nb][e];
  }
}

// Keys at or past K (the tile starts at key k0) weigh nothing.
__device__ __forceinline__ void drop_slab_keys_past(float (&s)[8][4], int k0, int K, int t) {
#pragma unroll
  for (int nb = 0; nb < 8; ++nb)
#pragma unroll
    for (int e = 0; e < 4; ++e) s[nb][e] = k0 + nb * 8 + 2 * t + (e & 1) >= K ? -INFINITY : s[nb][e];
}

// The online-softmax step of a slab: the rows' new running maxima m (max across the 4 lanes of a row), the factors
// alpha = e^(m_old - m_new) that rescale what O and the row sums hold (0 on the first tile, m_old = -inf), and
// P = 2^(s log2 e - m log2 e) (one FFMA per score, FlashAttention's form) as bf16 A fragments: pa[kb] covers keys
// 16 kb .. 16 kb + 15.
__device__ __forceinline__ void softmax_slab(const float (&s)[8][4], float (&m)[2], uint32_t (&pa)[4][4],
                                             float (&alpha)[2]) {
#pragma unroll
  for (int hr = 0; hr < 2; ++hr) {
    float mx = -INFINITY;
#pragma unroll
    for (int nb = 0; nb < 8; ++nb) mx = fmaxf(mx, fmaxf(s[nb][2 * hr], s[nb][2 * hr + 1]));
    mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 1));
    mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 2));
    const float m_new = fmaxf(m[hr], mx);
    alpha[hr] = exp2_approx((m[hr] - m_new) * kLog2e);
    m[hr] = m_new;
    const float m_log2e = m_new * kLog2e;
#pragma unroll
    for (int nb = 0; nb < 8; ++nb)
      pa[nb / 2][(nb % 2) * 2 + hr] =
          exp2_bf16x2(fmaf(s[nb][2 * hr], kLog2e, -m_log2e), fmaf(s[nb][2 * hr + 1], kLog2e, -m_log2e));
  }
}

// Which (batch, head, query tile) a block owns; blocks of one (b, h) are adjacent so they share K/V in L2.
struct BlockCoords {
  int64_t b = 0, q0 = 0;
  int h = 0, hk = 0, rows = 0;  // hk: the key/value head (0 when Hk == 1); rows: valid queries in the tile
};
__device__ __forceinline__ BlockCoords block_coords(const FlashAttentionParams& p, int n_qtiles, int tile_rows) {
  BlockCoords c;
  const int64_t x = blockIdx.x;
  const int64_t bh = x / n_qtiles;
  c.q0 = (x - bh * n_qtiles) * tile_rows;
  c.h = static_cast<int>(bh % p.H);
  c.b = bh / p.H;
  c.hk = p.Hk == 1 ? 0 : c.h;
  c.rows = static_cast<int>(p.Q - c.q0 < tile_rows ? p.Q - c.q0 : tile_rows);
  return c;
}

// The block's part of each input tensor (E: the element type of q, k and v; B: the bias's): q at its first query row
// and head, k and v at its batch and key/value head, the key mask at its batch, the bias at its head and first
// query row; null for an absent mask or bias.
template <class E, class B>
struct BlockInputs {
  const E* q;
  const E* k;
  const E* v;
  const float* mask;
  const B* bias;
};
template <class E, class B = E>
__device__ __forceinline__ BlockInputs<E, B> block_inputs(const FlashAttentionParams& p, const BlockCoords& bc) {
  return {static_cast<const E*>(p.q) + bc.b * p.q_s0 + bc.q0 * p.q_s1 + bc.h * p.q_s2,
          static_cast<const E*>(p.k) + bc.b * p.k_s0 + bc.hk * p.k_s2,
          static_cast<const E*>(p.v) + bc.b * p.v_s0 + bc.hk * p.v_s2,
          p.mask ? p.mask + bc.b * p.mask_s0 : nullptr,
          p.bias ? static_cast<const B*>(p.bias) + bc.h * p.bias_s0 + bc.q0 * p.bias_s1 : nullptr};
}

// ... and of the outputs: the gate (null when absent) and out, at the block's batch, first query row and head.
template <class E>
struct BlockOutputs {
  const E* gate;
  E* out;
};
template <class E>
__device__ __forceinline__ BlockOutputs<E> block_outputs(const FlashAttentionParams& p, const BlockCoords& bc) {
  return {p.gate ? static_cast<const E*>(p.gate) + bc.b * p.gate_s0 + bc.q0 * p.gate_s1 + bc.h * p.gate_s2 : nullptr,
          static_cast<E*>(p.out) + bc.b * p.out_s0 + bc.q0 * p.out_s1 + bc.h * p.out_s2};
}

// The block's output rows from O / l staged in shared memory (Os: fp32 [rows][out_stride], 16-byte aligned rows):
// per 8 columns one 16-byte gate read and one 16-byte output write, out = (O / l) * sigmoid(gate). Rows at or past
// `rows` and columns at or past Dv are not written.
template <int DK>
__device__ __forceinline__ void write_gated_rows(const float* Os, int out_stride, int tile_rows, int rows, int Dv,
                                                 const uint16_t* gate, int64_t gate_s1, uint16_t* out,
                                                 int64_t out_s1) {
  constexpr int kChunks = DK / 8;
  for (int e = threadIdx.x; e < tile_rows * kChunks; e += blockDim.x) {
    const int r = e / kChunks, c = (e % kChunks) * 8;
    if (r >= rows || c >= Dv) continue;
    const float4 lo = *reinterpret_cast<const float4*>(Os + r * out_stride + c);
    const float4 hi = *reinterpret_cast<const float4*>(Os + r * out_stride + c + 4);
    float x[8] = {lo.x, lo.y, lo.z, lo.w, hi.x, hi.y, hi.z, hi.w};
    if (gate) {
      const uint4 gv = *reinterpret_cast<const uint4*>(gate + r * gate_s1 + c);
      const uint32_t gw[4] = {gv.x, gv.y, gv.z, gv.w};
#pragma unroll
      for (int k = 0; k < 8; ++k)
        x[k] *= sigmoid(bf16_bits_to_float(static_cast<uint16_t>(k & 1 ? gw[k / 2] >> 16 : gw[k / 2] & 0xffffu)));
    }
    uint32_t w[4];
#pragma unroll
    for (int k = 0; k < 4; ++k)
      w[k] = uint32_t{float_to_bf16_bits(x[2 * k])} | (uint32_t{float_to_bf16_bits(x[2 * k + 1])} << 16);
    *reinterpret_cast<uint4*>(out + r * out_s1 + c) = make_uint4(w[0], w[1], w[2], w[3]);
  }
}

// Host side: whether every row a block reads or writes at base + (b s0 + q s1 + h s2) + c, c a multiple of 8, is
// 16-byte aligned (the bf16 kernels then move it in 16-byte pieces).
inline bool rows_in_packets(const void* base, int64_t s0, int64_t s1, int64_t s2) {
  return aligned(base, 16) && s0 % 8 == 0 && s1 % 8 == 0 && s2 % 8 == 0;
}

}  // namespace axf::kernels::flash
