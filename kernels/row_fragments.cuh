// Rows of a bf16 tile in shared memory as mma.sync A fragments, for the kernels that run a LayerNorm and linear
// layers on tiles of pair rows (triangle_projection.cu, triangle_gated_output.cu, pair_bias.cu): a warp owns 16 rows
// of the tile, lane 4g + t holds rows g and g + 8 (r0, r1) at columns 16 ks + 2t + {0, 1, 8, 9} (PTX's m16n8k16 A
// layout).
//   layer_norm_fragments:  x = LayerNorm(tile[r, :]) * scale + offset (fp32 statistics, two passes), rounded to bf16
//   accumulate_slabs:      acc[s][16 x 8 NB] += a[s][16 x 16 KS] @ W[16 KS x 8 NB]  (W row-major bf16 in shared memory)
// the warps' own two-stage pipeline over their tiles of rows (warp_tile_pipeline, RowTiles, load_rows_async), and
// where the weights of the products sit in shared memory (weight_offset: for mma.sync or for wgmma).
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

#include "backend/cuda/cuda_check.h"
#include "kernels/mma_sm80.cuh"
#include "kernels/wgmma_sm90.cuh"

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

// sigmoid with the SFU's exponential and reciprocal (2 ulp; 0 for x -> -inf, 1 for x -> inf): the gates of the
// fused epilogues.
__device__ __forceinline__ float fast_sigmoid(float x) { return __fdividef(1.0f, 1.0f + __expf(-x)); }

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

// acc[s][nb] += a[s] @ W[:, 8 nb .. 8 nb + 7] for S slabs of a warp's 16 rows (KS k-blocks of A fragments each) and
// NB n-blocks, W row-major bf16 in shared memory (`stride` elements per row). Each B fragment (ldmatrix.trans: two
// n-blocks per x4 load, an odd last one by an x2 load) serves every slab.
template <int S, int KS, int NB>
__device__ __forceinline__ void accumulate_slabs(float (&acc)[S][NB][4], const uint32_t (&a)[S][KS][4],
                                                 const uint16_t* W, int stride, int lane) {
  const int frag_row = fragment_row(lane), frag_col = fragment_col(lane);
#pragma unroll
  for (int ks = 0; ks < KS; ++ks) {
#pragma unroll
    for (int nb = 0; nb + 1 < NB; nb += 2) {
      uint32_t b[4];
      ldmatrix_x4_trans(b, W + (ks * 16 + frag_row) * stride + nb * 8 + frag_col);
#pragma unroll
      for (int sl = 0; sl < S; ++sl) {
        mma_bf16_16816(acc[sl][nb], a[sl][ks], b[0], b[1]);
        mma_bf16_16816(acc[sl][nb + 1], a[sl][ks], b[2], b[3]);
      }
    }
    if constexpr (NB % 2 == 1) {
      uint32_t b[2];
      ldmatrix_x2_trans(b, W + (ks * 16 + frag_row) * stride + (NB - 1) * 8);
#pragma unroll
      for (int sl = 0; sl < S; ++sl) mma_bf16_16816(acc[sl][NB - 1], a[sl][ks], b[0], b[1]);
    }
  }
}

// One slab: acc[nb] += a @ W[:, 8 nb .. 8 nb + 7].
template <int KS, int NB>
__device__ __forceinline__ void accumulate_product(float (&acc)[NB][4], const uint32_t (&a)[KS][4], const uint16_t* W,
                                                   int stride, int lane) {
  accumulate_slabs<1, KS, NB>(reinterpret_cast<float(&)[1][NB][4]>(acc),
                              reinterpret_cast<const uint32_t(&)[1][KS][4]>(a), W, stride, lane);
}

// A warp's pipeline over its own tiles (first, first + step, ... below n_tiles) with two shared-memory stages:
// load(tile, stage) issues the tile's cp.async copies and commits them; body(tile, stage) runs once they are visible
// to the whole warp, while the next tile loads into the other stage. The stage a body used is free for the load
// after the next body (a warp barrier follows each body).
template <class Load, class Body>
__device__ __forceinline__ void warp_tile_pipeline(int64_t first, int64_t n_tiles, int64_t step, Load&& load,
                                                   Body&& body) {
  int stage = 0;
  if (first < n_tiles) load(first, 0);
  for (int64_t tile = first; tile < n_tiles; tile += step, stage ^= 1) {
    if (tile + step < n_tiles) {
      load(tile + step, stage ^ 1);
      cp_async_wait<1>();
    } else {
      cp_async_wait<0>();
    }
    __syncwarp();  // every lane's copies of this tile are visible to the warp
    body(tile, stage);
    __syncwarp();  // the stage is read: free for the tile after next
  }
}

// A warp's 16 rows [row0, row0 + 16) of COLS bf16 (`ld` elements apart) into a shared tile of `stride` elements
// per row by cp.async (16-byte pieces), zeros for rows at or past `rows`. The caller commits.
template <int COLS>
__device__ __forceinline__ void load_rows_async(uint16_t* dst, int stride, const uint16_t* src, int64_t ld,
                                                int64_t row0, int64_t rows, int lane) {
#pragma unroll
  for (int e = lane; e < 16 * COLS / 8; e += 32) {
    const int r = e / (COLS / 8), c8 = (e % (COLS / 8)) * 8;
    const bool ok = row0 + r < rows;
    cp_async_16(dst + r * stride + c8, ok ? src + (row0 + r) * ld + c8 : src, ok);
  }
}

// How a block's warps share tiles of 16 * kGroupWarps rows (kGroupWarps = 4: a warpgroup's 64 rows for wgmma; 1:
// every warp its own 16): this warp's first tile, the step between its tiles, the tile count, and the offset of its
// own 16 rows within a tile.
template <int kGroupWarps>
struct RowTiles {
  int64_t first, step, count;
  int sub;
  __device__ RowTiles(int64_t rows, int warp, int warps)
      : first(int64_t{blockIdx.x} * (warps / kGroupWarps) + warp / kGroupWarps),
        step(int64_t{gridDim.x} * (warps / kGroupWarps)),
        count((rows + 16 * kGroupWarps - 1) / (16 * kGroupWarps)),
        sub((warp % kGroupWarps) * 16) {}
  __device__ int64_t first_row(int64_t tile) const { return tile * 16 * kGroupWarps + sub; }
};

// Waits for this block's weight copies (cp.async) and makes them visible to every warp, with kWgmma also to wgmma's
// operand reads (the async proxy). Every thread of the block calls it once, after issuing its copies.
template <bool kWgmma>
__device__ __forceinline__ void weights_arrived() {
  cp_async_wait<0>();
#if defined(AXF_WGMMA)
  if constexpr (kWgmma) fence_proxy_async_shared();
#endif
  __syncthreads();
}

// Shared-memory element offset of the 8 weights (k, n .. n + 7) of a [K][N] row-major weight matrix held for the
// products (n a multiple of 8): rows of `stride` elements for ldmatrix (mma.sync), or with kWgmma wgmma's
// no-swizzle core matrices (8 x 16 bytes each, 128 bytes apart along n, N * 16 bytes apart along k), the layout of
// an MN-major B operand (wgmma_sm90.cuh).
template <bool kWgmma>
__device__ __forceinline__ int weight_offset(int k, int n, int stride, int n_cols) {
  return kWgmma ? (k / 8) * (n_cols * 8) + (n / 8) * 64 + (k % 8) * 8 : k * stride + n;
}

// Host side: opts `kernel` in to `smem` bytes of dynamic shared memory and returns how many of its blocks of
// `threads` threads the device holds at once (at least one per SM).
template <typename Kernel>
int64_t resident_blocks(Kernel kernel, int threads, size_t smem) {
  AXF_CUDA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(smem)));
  int device = 0, sms = 0, per_sm = 0;
  AXF_CUDA_CHECK(cudaGetDevice(&device));
  AXF_CUDA_CHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device));
  AXF_CUDA_CHECK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, kernel, threads, smem));
  return int64_t{per_sm > 1 ? per_sm : 1} * sms;
}

}  // namespace axf::kernels
