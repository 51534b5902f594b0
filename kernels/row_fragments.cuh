// Rows of a bf16 tile in shared memory as mma.sync A fragments, for the kernels that run a LayerNorm and linear
// layers on tiles of pair rows (triangle_projection.cu, triangle_gated_output.cu, pair_bias.cu): a warp owns 16 rows
// of the tile, lane 4g + t holds rows g and g + 8 (r0, r1) at columns 16 ks + 2t + {0, 1, 8, 9} (PTX's m16n8k16 A
// layout).
//   layer_norm_fragments:  x = LayerNorm(tile[r, :]) * scale + offset (fp32 statistics, two passes), rounded to bf16
//   accumulate_product:    acc[16 x 8 NB] += a[16 x 16 KS] @ W[16 KS x 8 NB]   (W row-major bf16 in shared memory)
#pragma once

#include <cstdint>

#include "kernels/mma_sm80.cuh"

namespace axf::kernels {

__device__ __forceinline__ float bf16_lo(uint32_t x) { return __uint_as_float(x << 16); }
__device__ __forceinline__ float bf16_hi(uint32_t x) { return __uint_as_float(x & 0xffff0000u); }
__device__ __forceinline__ uint32_t pack_bf16x2(float lo, float hi) {
  uint32_t r;
  asm("cvt.rn.bf16x2.f32 %0, %1, %2;" : "=r"(r) : "f"(hi), "f"(lo));
  return r;
}
// Sum over the four lanes of a quad (the lanes t = 0..3 that share the rows g, g + 8 of a fragment).
__device__ __forceinline__ float quad_sum(float v) {
  v += __shfl_xor_sync(0xffffffffu, v, 1);
  return v + __shfl_xor_sync(0xffffffffu, v, 2);
}

// The ldmatrix lane address of a 16 x 16 block: row and column offsets of this lane's 8-element piece.
__device__ __forceinline__ int fragment_row(int lane) { return (lane & 7) + ((lane >> 3) & 1) * 8; }
__device__ __forceinline__ int fragment_col(int lane) { return (lane >> 4) * 8; }

// LayerNorm of this lane's rows r0 and r1 of `tile` (CZ bf16 per row, `stride` elements apart) into A fragments
// xa[ks] covering columns 16 ks .. 16 ks + 15. Each lane reads only the columns of its own fragments (a quad reads
// its rows once), so a caller may overwrite those elements afterwards without a barrier.
template <int CZ>
__device__ __forceinline__ void layer_norm_fragments(const uint16_t* tile, int stride, int r0, int r1, int t,
                                                     const float* scale, const float* offset, float eps,
                                                     uint32_t (&xa)[CZ / 16][4]) {
  auto at = [&](int row, int col) { return *reinterpret_cast<const uint32_t*>(tile + row * stride + col); };
  float s0 = 0.f, s1 = 0.f;
#pragma unroll
  for (int k = 2 * t; k < CZ; k += 8) {
    const uint32_t a = at(r0, k), b = at(r1, k);
    s0 += bf16_lo(a) + bf16_hi(a);
    s1 += bf16_lo(b) + bf16_hi(b);
  }
  const float mean0 = quad_sum(s0) / CZ, mean1 = quad_sum(s1) / CZ;
  float q0 = 0.f, q1 = 0.f;
#pragma unroll
  for (int k = 2 * t; k < CZ; k += 8) {
    const uint32_t a = at(r0, k), b = at(r1, k);
    const float d0 = bf16_lo(a) - mean0, d1 = bf16_hi(a) - mean0, d2 = bf16_lo(b) - mean1, d3 = bf16_hi(b) - mean1;
    q0 += d0 * d0 + d1 * d1;
    q1 += d2 * d2 + d3 * d3;
  }
  const float rstd0 = rsqrtf(quad_sum(q0) / CZ + eps), rstd1 = rsqrtf(quad_sum(q1) / CZ + eps);
#pragma unroll
  for (int ks = 0; ks < CZ / 16; ++ks)
#pragma unroll
    for (int reg = 0; reg < 4; ++reg) {
      const int col = ks * 16 + (reg >> 1) * 8 + 2 * t;
      const bool hi_row = reg & 1;
      const uint32_t v = at(hi_row ? r1 : r0, col);
      const float m = hi_row ? mean1 : mean0, rs = hi_row ? rstd1 : rstd0;
      xa[ks][reg] = pack_bf16x2((bf16_lo(v) - m) * rs * scale[col] + offset[col],
                                (bf16_hi(v) - m) * rs * scale[col + 1] + offset[col + 1]);
    }
}

// acc[nb] += a (a warp's 16 rows, KS k-blocks of A fragments) @ W[:, 8 nb .. 8 nb + 7] for NB n-blocks, W row-major
// bf16 in shared memory (`stride` elements per row, B fragments by ldmatrix.trans: two n-blocks per x4 load, an odd
// last one by an x2 load).
template <int KS, int NB>
__device__ __forceinline__ void accumulate_product(float (&acc)[NB][4], const uint32_t (&a)[KS][4], const uint16_t* W,
                                                   int stride, int lane) {
  const int frag_row = fragment_row(lane), frag_col = fragment_col(lane);
#pragma unroll
  for (int ks = 0; ks < KS; ++ks) {
#pragma unroll
    for (int nb = 0; nb + 1 < NB; nb += 2) {
      uint32_t b[4];
      ldmatrix_x4_trans(b, W + (ks * 16 + frag_row) * stride + nb * 8 + frag_col);
      mma_bf16_16816(acc[nb], a[ks], b[0], b[1]);
      mma_bf16_16816(acc[nb + 1], a[ks], b[2], b[3]);
    }
    if constexpr (NB % 2 == 1) {
      uint32_t b[2];
      ldmatrix_x2_trans(b, W + (ks * 16 + frag_row) * stride + (NB - 1) * 8);
      mma_bf16_16816(acc[NB - 1], a[ks], b[0], b[1]);
    }
  }
}

}  // namespace axf::kernels
