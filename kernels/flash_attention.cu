#include "kernels/flash_attention.cuh"

#include <cuda_bf16.h>

#include <cstdint>
#include <cstdlib>
#include <type_traits>

#include "backend/cuda/cuda_check.h"
#include "kernels/flash_attention_device.cuh"
#include "kernels/flash_attention_sm90.cuh"
#include "kernels/mma_sm80.cuh"
#include "kernels/rows.cuh"

namespace axf::kernels {

namespace {

using namespace flash;

constexpr int kThreads = 128;  // 4 warps

__device__ __forceinline__ float comp(const float4& v, int i) {
  return i == 0 ? v.x : i == 1 ? v.y : i == 2 ? v.z : v.w;
}

// ---- fp32 kernel (FFMA) ----------------------------------------------------------------------------------------
// Thread layout: 16 row groups of 8 threads (rg = tid / 8, kg = tid % 8). A thread owns query rows rg + 16 i
// (i < 4); in the logits it owns keys (c / 4) * 32 + 4 kg + c % 4 (c < 8), in the output DH / 8 columns. Its
// 4 x 8 logits come from outer products of a float4 of Qs (one per head dim) and two float4 of Ks; P goes
// through shared memory only to the 7 other threads of its row group.

template <int DH>
struct F32Tile {
  static constexpr int kCols = DH / 8;      // output columns per thread
  static constexpr int kKStride = kBN + 8;  // Ks[d][j]: a warp's transposing copies (8 keys x 4 dims) hit 32 banks
  static constexpr int kPStride = kBN + 4;  // Ps[r][j]: a warp's float4 rows fall in distinct bank groups
  static constexpr int kQFloats = DH * kBM;
  static constexpr int kPFloats = kBM * kPStride;
  static constexpr int kKFloats = DH * kKStride;
  static constexpr int kVFloats = kBN * DH;
  static constexpr int kStageFloats = kKFloats + kVFloats + kBN;  // Ks, Vs, key mask
  static constexpr size_t kSmemBytes = sizeof(float) * (kQFloats + kPFloats + kStages * kStageFloats);
  static constexpr int kMinBlocks = DH >= 64 ? 2 : DH >= 32 ? 3 : 4;  // per SM (shared memory bounds the larger)
};

__device__ __forceinline__ int f32_key(int kg, int c) { return (c >> 2) * 32 + kg * 4 + (c & 3); }

template <int DH>
__device__ __forceinline__ int f32_out_col(int kg, int c) {
  constexpr int n = DH / 8;
  if constexpr (n >= 4) {
    return (c / 4) * 32 + kg * 4 + c % 4;
  } else {
    return kg * n + c;
  }
}

template <int DH>
__device__ __forceinline__ void f32_load_v(const float* vrow, int kg, float (&x)[DH / 8]) {
  if constexpr (DH == 8) {
    x[0] = vrow[kg];
  } else if constexpr (DH == 16) {
    const float2 t = *reinterpret_cast<const float2*>(vrow + 2 * kg);
    x[0] = t.x;
    x[1] = t.y;
  } else {
#pragma unroll
    for (int g = 0; g < DH / 32; ++g) {
      const float4 t = *reinterpret_cast<const float4*>(vrow + g * 32 + 4 * kg);
      x[4 * g] = t.x;
      x[4 * g + 1] = t.y;
      x[4 * g + 2] = t.z;
      x[4 * g + 3] = t.w;
    }
  }
}

template <int DH>
__global__ void __launch_bounds__(kThreads, F32Tile<DH>::kMinBlocks)
    flash_attention_f32(const FlashAttentionParams p, int n_qtiles, bool v_vec, bool bias_vec) {
  using T = F32Tile<DH>;
  extern __shared__ float4 smem_f4[];
  float* const Qs = reinterpret_cast<float*>(smem_f4);  // Qs[d][(r % 16) * 4 + r / 16], scaled
  float* const Ps = Qs + T::kQFloats;                    // Ps[r][j]
  float* const stages = Ps + T::kPFloats;

  const int tid = threadIdx.x, rg = tid >> 3, kg = tid & 7;
  const BlockCoords bc = block_coords(p, n_qtiles, kBM);
  const int D = static_cast<int>(p.D), Dv = static_cast<int>(p.Dv), K = static_cast<int>(p.K);
  const auto [q, k, v, mask, bias] = block_inputs<float>(p, bc);
  const int n_tiles = (K + kBN - 1) / kBN;

  auto load_tile = [&](int tile) {
    float* const Ks = stages + (tile % kStages) * T::kStageFloats;
    float* const Vs = Ks + T::kKFloats;
    float* const Ms = Vs + T::kVFloats;
    const int k0 = tile * kBN, nk = min(kBN, K - k0);
    const float* const kt = k + k0 * p.k_s1;
    const float* const vt = v + k0 * p.v_s1;
    // K transposed into Ks[d][j]: each warp step copies 8 keys x 4 dims (global: 16-byte runs; shared: 32 banks).
#pragma unroll
    for (int it = 0; it < kBN * DH / kThreads; ++it) {
      const int e = it * kThreads + tid, chunk = e >> 5, lane = e & 31;
      const int j = (chunk % (kBN / 8)) * 8 + (lane & 7), d = (chunk / (kBN / 8)) * 4 + (lane >> 3);
      const bool ok = j < nk && d < D;
      cp_async_4(Ks + d * T::kKStride + j, ok ? kt + j * p.k_s1 + d : k, ok);
    }
    if (v_vec) {
#pragma unroll
      for (int it = 0; it < kBN * DH / 4 / kThreads; ++it) {
        const int e = it * kThreads + tid, j = e / (DH / 4), c = (e % (DH / 4)) * 4;
        const bool ok = j < nk && c < Dv;
        cp_async_16(Vs + j * DH + c, ok ? vt + j * p.v_s1 + c : v, ok);
      }
    } else {
#pragma unroll 4
      for (int e = tid; e < kBN * DH; e += kThreads) {
        const int j = e / DH, c = e % DH;
        const bool ok = j < nk && c < Dv;
        cp_async_4(Vs + j * DH + c, ok ? vt + j * p.v_s1 + c : v, ok);
      }
    }
    if (mask && tid < kBN) cp_async_4(Ms + tid, tid < nk ? mask + (k0 + tid) * p.mask_s1 : mask, tid < nk);
    cp_async_commit();
  };

  // Raw bias of this thread's 4 rows x 8 keys of a key tile (0 without bias, or past the last key). Rows past the
  // last query read the last one's: finite, never written.
  auto load_bias = [&](float (&s)[4][8], int tile) {
    const int k0 = tile * kBN;
    const bool full = bias_vec && k0 + kBN <= K;
#pragma unroll
    for (int i = 0; i < 4; ++i) {
      const float* const brow = bias ? bias + min(rg + 16 * i, bc.rows - 1) * p.bias_s1 : nullptr;
      if (!bias) {
#pragma unroll
        for (int c = 0; c < 8; ++c) s[i][c] = 0.f;
      } else if (full) {
        const float4 x0 = __ldg(reinterpret_cast<const float4*>(brow + k0 + 4 * kg));
        const float4 x1 = __ldg(reinterpret_cast<const float4*>(brow + k0 + 32 + 4 * kg));
        s[i][0] = x0.x, s[i][1] = x0.y, s[i][2] = x0.z, s[i][3] = x0.w;
        s[i][4] = x1.x, s[i][5] = x1.y, s[i][6] = x1.z, s[i][7] = x1.w;
      } else {
#pragma unroll
        for (int c = 0; c < 8; ++c) {
          const int key = k0 + f32_key(kg, c);
          s[i][c] = key < K ? __ldg(brow + key * p.bias_s2) : 0.f;
        }
      }
    }
  };

  load_tile(0);
  // Q once, scaled and transposed so a thread's four rows (rg + 16 i) sit in one float4 per head dim.
  for (int e = tid; e < kBM * DH; e += kThreads) {
    const int r = e / DH, d = e % DH;
    Qs[d * kBM + (r & 15) * 4 + (r >> 4)] = r < bc.rows && d < D ? q[r * p.q_s1 + d] * p.scale : 0.f;
  }
  float s[4][8];  // logits, then probabilities, of the current tile; between tiles the next tile's bias
  load_bias(s, 0);
  float o[4][T::kCols] = {};
  float m[4], l[4];  // running max (natural units) and this thread's part of the row sum
#pragma unroll
  for (int i = 0; i < 4; ++i) m[i] = -INFINITY, l[i] = 0.f;

  for (int tile = 0; tile < n_tiles; ++tile) {
    if (tile + 1 < n_tiles) {
      load_tile(tile + 1);
      cp_async_wait<1>();
    } else {
      cp_async_wait<0>();
    }
    __syncthreads();
    const float* const Ks = stages + (tile % kStages) * T::kStageFloats;
    const float* const Vs = Ks + T::kKFloats;
    const float* const Ms = Vs + T::kVFloats;
    const int k0 = tile * kBN;

    // s = bias + (scale q) k^T
#pragma unroll
    for (int d = 0; d < DH; ++d) {
      const float4 qv = *reinterpret_cast<const float4*>(Qs + d * kBM + rg * 4);
      const float4 ka = *reinterpret_cast<const float4*>(Ks + d * T::kKStride + kg * 4);
      const float4 kb = *reinterpret_cast<const float4*>(Ks + d * T::kKStride + 32 + kg * 4);
      const float qr[4] = {qv.x, qv.y, qv.z, qv.w};
      const float kc[8] = {ka.x, ka.y, ka.z, ka.w, kb.x, kb.y, kb.z, kb.w};
#pragma unroll
      for (int i = 0; i < 4; ++i)
#pragma unroll
        for (int c = 0; c < 8; ++c) s[i][c] = fmaf(qr[i], kc[c], s[i][c]);
    }
    if (mask) {  // replacement after the bias, as AlphaFold does
      const float4 ma = *reinterpret_cast<const float4*>(Ms + kg * 4);
      const float4 mb = *reinterpret_cast<const float4*>(Ms + 32 + kg * 4);
      const float mk[8] = {ma.x, ma.y, ma.z, ma.w, mb.x, mb.y, mb.z, mb.w};
#pragma unroll
      for (int c = 0; c < 8; ++c)
#pragma unroll
        for (int i = 0; i < 4; ++i) s[i][c] = mk[c] == 0.f ? kMaskedLogit : s[i][c];
    }
    if (k0 + kBN > K) {  // keys past the end weigh nothing
#pragma unroll
      for (int c = 0; c < 8; ++c)
#pragma unroll
        for (int i = 0; i < 4; ++i) s[i][c] = k0 + f32_key(kg, c) >= K ? -INFINITY : s[i][c];
    }

    // Online softmax: one max per row across the row group, rescale the running sum and output.
#pragma unroll
    for (int i = 0; i < 4; ++i) {
      float mx = s[i][0];
#pragma unroll
      for (int c = 1; c < 8; ++c) mx = fmaxf(mx, s[i][c]);
      mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 1));
      mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 2));
      mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 4));
      const float m_new = fmaxf(m[i], mx);
      const float alpha = exp2_approx((m[i] - m_new) * kLog2e);  // 0 on the first tile (m = -inf)
      m[i] = m_new;
      float sum = 0.f;
#pragma unroll
      for (int c = 0; c < 8; ++c) {
        s[i][c] = exp2_approx((s[i][c] - m_new) * kLog2e);
        sum += s[i][c];
      }
      l[i] = fmaf(l[i], alpha, sum);
#pragma unroll
      for (int c = 0; c < T::kCols; ++c) o[i][c] *= alpha;
    }
#pragma unroll
    for (int i = 0; i < 4; ++i) {
      float* const prow = Ps + (rg + 16 * i) * T::kPStride;
      *reinterpret_cast<float4*>(prow + kg * 4) = make_float4(s[i][0], s[i][1], s[i][2], s[i][3]);
      *reinterpret_cast<float4*>(prow + 32 + kg * 4) = make_float4(s[i][4], s[i][5], s[i][6], s[i][7]);
    }
    __syncwarp();  // P rows are shared only within the row group (8 lanes of one warp)
    if (tile + 1 < n_tiles) load_bias(s, tile + 1);  // in flight during P v

    // o += P v
#pragma unroll
    for (int j = 0; j < kBN; j += 4) {
      float4 pr[4];
#pragma unroll
      for (int i = 0; i < 4; ++i) pr[i] = *reinterpret_cast<const float4*>(Ps + (rg + 16 * i) * T::kPStride + j);
#pragma unroll
      for (int jj = 0; jj < 4; ++jj) {
        float vv[T::kCols];
        f32_load_v<DH>(Vs + (j + jj) * DH, kg, vv);
#pragma unroll
        for (int i = 0; i < 4; ++i) {
          const float pij = comp(pr[i], jj);
#pragma unroll
          for (int c = 0; c < T::kCols; ++c) o[i][c] = fmaf(pij, vv[c], o[i][c]);
        }
      }
    }
    __syncthreads();  // this stage and Ps are free for the next tile
  }

  // out = o / rowsum (* sigmoid(gate))
  const auto [gate, out] = block_outputs<float>(p, bc);
#pragma unroll
  for (int i = 0; i < 4; ++i) {
    float lt = l[i];
    lt += __shfl_xor_sync(0xffffffffu, lt, 1);
    lt += __shfl_xor_sync(0xffffffffu, lt, 2);
    lt += __shfl_xor_sync(0xffffffffu, lt, 4);
    const float inv = 1.0f / lt;
    const int r = rg + 16 * i;
    if (r >= bc.rows) continue;
#pragma unroll
    for (int c = 0; c < T::kCols; ++c) {
      const int col = f32_out_col<DH>(kg, c);
      if (col >= Dv) continue;
      float x = o[i][c] * inv;
      if (gate) x *= sigmoid(gate[r * p.gate_s1 + col]);
      out[r * p.out_s1 + col] = x;
    }
  }
}

// ---- bf16 kernel (mma.sync m16n8k16, fp32 accumulation) --------------------------------------------------------
// FlashAttention-2's layout: a block of 4 warps owns MT slabs of 64 query rows; in slab mt, warp w owns rows
// 64 mt + 16 w .. + 15. S = bias + (scale Q) K^T lands in the mma accumulator fragments (8 n-blocks of 8 keys), the
// row max runs on them in fp32, and P = exp(S - max) is packed in registers as the A operand of O += P V (no
// shared-memory round trip). K and V tiles are row-major bf16 in shared memory (rows padded by 16 bytes so ldmatrix
// is conflict-free); B fragments come from ldmatrix (.trans for V), each one used for the MT slabs' products (MT = 2
// halves the shared-memory reads and the L2 traffic of K and V per product).

// BiasT of attention without a bias (MSA column attention): its shared memory holds no bias tile and S starts from
// the first product.
struct NoBias {
  uint16_t unused;
};

template <int DK, class BiasT, int MT>
struct Bf16Tile {
  static constexpr bool kHasBias = !std::is_same_v<BiasT, NoBias>;
  static constexpr int kRows = kBM * MT;  // query rows per block
  static constexpr int kStride = DK + 8;  // bf16 per shared row
  static constexpr int kKVElems = kBN * kStride;
  // Bias tile [kRows][kBN keys] per stage, rows padded by 16 bytes so a warp's fragment reads (8 rows x 4 key
  // pairs) fall in distinct banks.
  static constexpr int kBiasStride = kBN + 16 / static_cast<int>(sizeof(BiasT));
  static constexpr size_t kBiasOffset = 2 * kKVElems * sizeof(uint16_t) + kBN * sizeof(float);
  static constexpr size_t kStageBytes = kBiasOffset + kRows * kBiasStride * sizeof(BiasT);
  static constexpr size_t kSmemBytes = kStages * kStageBytes;
  static constexpr int kNv = DK / 8;  // n-blocks of output columns
  // The q tile (bf16, kStride per row) goes through the second stage, O / l (fp32, kOutStride per row) through the
  // stages after the loop: both fit the stages of the bias-free kernel.
  static constexpr int kOutStride = DK + 4;
  static_assert(kRows * kStride * sizeof(uint16_t) <= kBiasOffset, "the q tile must fit one stage");
  static_assert(kRows * kOutStride * sizeof(float) <= kStages * kBiasOffset, "O / l must fit the stages");
  // Blocks per SM the registers must allow (more warps against the latency of the softmax between the two
  // products). One slab, measured on an H100 at L=1024 (Nsight Compute): 5 blocks (95 registers) made head dim 16
  // (the extra-MSA row attention) 9% faster and the bias-free head dim 32 (MSA column attention, whose stages hold
  // no bias tile) 9% faster, but the bf16-bias head dim 32 (MSA row, triangle attention) 6% slower than 4 blocks
  // (127 registers), so that one keeps 4. Two slabs hold twice the accumulators and interleave their own work.
  static constexpr int kMinBlocks = MT == 2 ? (DK >= 64 ? 2 : 3)
                                    : DK >= 64 ? 3
                                    : (DK <= 16 || !kHasBias || std::is_same_v<BiasT, float>) ? 5
                                                                                 : 4;
  static_assert(kBiasOffset % 16 == 0, "the bias tile must start 16-byte aligned");
};

// Which tensors the bf16 kernel moves in 16-byte pieces (aligned bases, head dims and strides multiples of 8):
// K/V tiles, bias tiles, the q tile (through shared memory, then ldmatrix), the gate and the output (O / l staged in
// shared memory, then one 16-byte gate read and output write per 8 columns). Otherwise element by element.
struct Bf16Vectors {
  bool kv = false, bias = false, q = false, out = false;
};

// Bias tiles travel with the key/value tiles: cp.async into shared memory one tile ahead (16-byte copies when
// the bias rows allow them), read back in the accumulator layout. BiasT: uint16_t (bf16 bits), float or NoBias.

template <int DK, class BiasT, int MT>
__global__ void __launch_bounds__(kThreads, Bf16Tile<DK, BiasT, MT>::kMinBlocks)
    flash_attention_bf16(const FlashAttentionParams p, int n_qtiles, Bf16Vectors vec) {
  using T = Bf16Tile<DK, BiasT, MT>;
  extern __shared__ float4 smem_f4[];
  char* const smem = reinterpret_cast<char*>(smem_f4);

  const int tid = threadIdx.x, warp = tid >> 5, lane = tid & 31, g = lane >> 2, t = lane & 3;
  const BlockCoords bc = block_coords(p, n_qtiles, T::kRows);
  const int D = static_cast<int>(p.D), Dv = static_cast<int>(p.Dv), K = static_cast<int>(p.K);
  const auto [q, k, v, mask, bias] = block_inputs<uint16_t, BiasT>(p, bc);
  const int n_tiles = (K + kBN - 1) / kBN;
  // This thread's rows in slab mt: row(mt) and row(mt) + 8.
  auto row = [&](int mt) { return mt * kBM + warp * 16 + g; };

  // Without a bias the stages hold no bias tile (the host allocates less shared memory: more blocks per SM).
  const size_t stage_bytes = T::kHasBias ? T::kStageBytes : T::kBiasOffset;
  auto stage = [&](int tile) { return reinterpret_cast<uint16_t*>(smem + (tile % kStages) * stage_bytes); };

  // Each thread's share of a tile's 16-byte copies is the same in every tile (only the tile's first key moves), so
  // its offsets are computed once: K and V rows kv_j0 + it kKvRowStep, head dims kv_c0 .. + 7; bias rows
  // b_r0 + it kBiasRowStep, keys b_c0 .. + kBiasChunk - 1 of the tile.
  constexpr int kKvRowStep = kThreads / (DK / 8);
  constexpr int kBiasChunk = 16 / static_cast<int>(sizeof(BiasT));  // elements per 16-byte copy
  constexpr int kBiasRowStep = kThreads / (kBN / kBiasChunk);
  static_assert(kThreads % (DK / 8) == 0 && kThreads % (kBN / kBiasChunk) == 0, "copy shares must tile the block");
  const int kv_j0 = tid / (DK / 8), kv_c0 = (tid % (DK / 8)) * 8;
  const bool k_cols_ok = kv_c0 < D, v_cols_ok = kv_c0 < Dv;
  const uint16_t* const k_share = k + kv_j0 * p.k_s1 + kv_c0;
  const uint16_t* const v_share = v + kv_j0 * p.v_s1 + kv_c0;
  const int64_t k_step = kKvRowStep * p.k_s1, v_step = kKvRowStep * p.v_s1;
  const int b_r0 = tid / (kBN / kBiasChunk), b_c0 = (tid % (kBN / kBiasChunk)) * kBiasChunk;
  const BiasT* const b_share = bias ? bias + b_r0 * p.bias_s1 + b_c0 : nullptr;
  const int64_t b_step = kBiasRowStep * p.bias_s1;
  // Where this thread's share of the next tile starts: load_tile takes the tiles in order, so these advance by one
  // tile per call (a pointer increment each, rather than 64-bit offset arithmetic per tile).
  const uint16_t* k_next = k_share;
  const uint16_t* v_next = v_share;
  const BiasT* b_next = b_share;
  const int64_t k_tile_step = kBN * p.k_s1, v_tile_step = kBN * p.v_s1;
  // The key mask: this thread's key (tid < kBN) of the next tile.
  const float* m_next = mask ? mask + tid * p.mask_s1 : nullptr;
  const int64_t m_tile_step = kBN * p.mask_s1;

  auto load_tile = [&](int tile) {
    uint16_t* const Ks = stage(tile);
    uint16_t* const Vs = Ks + T::kKVElems;
    float* const Ms = reinterpret_cast<float*>(Vs + T::kKVElems);
    const int k0 = tile * kBN, nk = min(kBN, K - k0);
    // Full tiles (every key, head dim and query row in bounds: the usual case) take unpredicated copies from one
    // pointer per tensor stepping down the rows; the last, partial tile the predicated, zero-filling ones.
    const bool full_keys = nk == kBN;
    if (vec.kv && full_keys && k_cols_ok && v_cols_ok) {
      const uint16_t* kp = k_next;
      const uint16_t* vp = v_next;
#pragma unroll
      for (int it = 0; it < kBN * DK / 8 / kThreads; ++it) {
        const int dst = (kv_j0 + it * kKvRowStep) * T::kStride + kv_c0;
        cp_async_16_full(Ks + dst, kp);
        cp_async_16_full(Vs + dst, vp);
        kp += k_step;
        vp += v_step;
      }
      k_next += k_tile_step;
      v_next += v_tile_step;
    } else if (vec.kv) {  // 16-byte chunks of 8 head dims
#pragma unroll
      for (int it = 0; it < kBN * DK / 8 / kThreads; ++it) {
        const int j = kv_j0 + it * kKvRowStep, dst = j * T::kStride + kv_c0;
        const bool okk = j < nk && k_cols_ok, okv = j < nk && v_cols_ok;
        cp_async_16(Ks + dst, okk ? k_next + it * k_step : k, okk);
        cp_async_16(Vs + dst, okv ? v_next + it * v_step : v, okv);
      }
      k_next += k_tile_step;
      v_next += v_tile_step;
    } else {  // odd head dims or unaligned views: element by element through registers
      const uint16_t* const kt = k + k0 * p.k_s1;
      const uint16_t* const vt = v + k0 * p.v_s1;
#pragma unroll 4
      for (int e = tid; e < kBN * DK; e += kThreads) {
        const int j = e / DK, c = e % DK;
        Ks[j * T::kStride + c] = j < nk && c < D ? kt[j * p.k_s1 + c] : uint16_t{0};
        Vs[j * T::kStride + c] = j < nk && c < Dv ? vt[j * p.v_s1 + c] : uint16_t{0};
      }
    }
    if (mask && tid < kBN) {
      if (full_keys) {
        cp_async_4_full(Ms + tid, m_next);
      } else {
        cp_async_4(Ms + tid, tid < nk ? m_next : mask, tid < nk);
      }
      m_next += m_tile_step;
    }
    if constexpr (T::kHasBias) {
      BiasT* const Bs = reinterpret_cast<BiasT*>(reinterpret_cast<char*>(Ks) + T::kBiasOffset);
      if (vec.bias && full_keys && bc.rows == T::kRows) {
        const BiasT* bp = b_next;
#pragma unroll
        for (int it = 0; it < T::kRows * kBN / kBiasChunk / kThreads; ++it) {
          cp_async_16_full(Bs + (b_r0 + it * kBiasRowStep) * T::kBiasStride + b_c0, bp);
          bp += b_step;
        }
        b_next += kBN;
      } else if (vec.bias && full_keys) {
#pragma unroll
        for (int it = 0; it < T::kRows * kBN / kBiasChunk / kThreads; ++it) {
          const int r = b_r0 + it * kBiasRowStep;
          const bool ok = r < bc.rows;
          cp_async_16(Bs + r * T::kBiasStride + b_c0, ok ? b_next + it * b_step : bias, ok);
        }
        b_next += kBN;  // keys are dense in the vector path
      } else {  // the last partial tile or unaligned views: element by element (zeros past the ends)
        for (int e = tid; e < T::kRows * kBN; e += kThreads) {
          const int r = e / kBN, c = e % kBN;
          Bs[r * T::kBiasStride + c] = r < bc.rows && c < nk ? bias[r * p.bias_s1 + (k0 + c) * p.bias_s2] : BiasT{0};
        }
      }
    }
    cp_async_commit();
  };

  load_tile(0);
  // scale q as A fragments: qa[mt][ks] covers head dims 16 ks .. 16 ks + 15. The scale is applied to q and rounded
  // to bf16 once, as AlphaFold scales q before its logits einsum.
  uint32_t qa[MT][DK / 16][4];
  auto scaled = [&](uint16_t x, int c) { return c < D ? float_to_bf16_bits(bf16_bits_to_float(x) * p.scale) : 0u; };
  if (vec.q) {
    // The q tile in 16-byte copies into the second stage (free until tile 1 loads; zeros past the rows and head
    // dims), then ldmatrix in the A-fragment layout.
    uint16_t* const Qs = stage(1);
    constexpr int kChunks = DK / 8;
    for (int e = tid; e < T::kRows * kChunks; e += kThreads) {
      const int r = e / kChunks, c = (e % kChunks) * 8;
      const bool ok = r < bc.rows && c < D;
      cp_async_16(Qs + r * T::kStride + c, ok ? q + r * p.q_s1 + c : q, ok);
    }
    cp_async_commit();
    cp_async_wait<0>();
    __syncthreads();
#pragma unroll
    for (int mt = 0; mt < MT; ++mt)
#pragma unroll
      for (int ks = 0; ks < DK / 16; ++ks) {
        ldmatrix_x4(qa[mt][ks], Qs + (mt * kBM + warp * 16 + (lane & 7) + ((lane >> 3) & 1) * 8) * T::kStride +
                                    ks * 16 + (lane >> 4) * 8);
#pragma unroll
        for (int reg = 0; reg < 4; ++reg) {
          const int c = ks * 16 + (reg >> 1) * 8 + 2 * t;
          qa[mt][ks][reg] = scaled(static_cast<uint16_t>(qa[mt][ks][reg] & 0xffffu), c) |
                            (scaled(static_cast<uint16_t>(qa[mt][ks][reg] >> 16), c + 1) << 16);
        }
      }
    __syncthreads();  // the second stage is free for tile 1
  } else {
#pragma unroll
    for (int mt = 0; mt < MT; ++mt)
#pragma unroll
      for (int ks = 0; ks < DK / 16; ++ks)
#pragma unroll
        for (int reg = 0; reg < 4; ++reg) {
          const int r = row(mt) + (reg & 1) * 8, c = ks * 16 + (reg >> 1) * 8 + 2 * t;
          const uint16_t* const qr = q + min(r, bc.rows - 1) * p.q_s1;
          const uint32_t lo = scaled(c < D ? qr[c] : uint16_t{0}, c);
          const uint32_t hi = scaled(c + 1 < D ? qr[c + 1] : uint16_t{0}, c + 1);
          qa[mt][ks][reg] = lo | (hi << 16);
        }
  }
  float o[MT][T::kNv][4] = {};
  // m: the running maximum of rows row(mt) and row(mt) + 8; l: their running sums in the accumulator layout of one
  // n-block (every column holds the row's sum: l[mt][0] and l[mt][2]).
  float m[MT][2], l[MT][4] = {};
#pragma unroll
  for (int mt = 0; mt < MT; ++mt) m[mt][0] = m[mt][1] = -INFINITY;

  for (int tile = 0; tile < n_tiles; ++tile) {
    if (tile + 1 < n_tiles) {
      load_tile(tile + 1);
      cp_async_wait<1>();
    } else {
      cp_async_wait<0>();
    }
    __syncthreads();
    const uint16_t* const Ks = stage(tile);
    const uint16_t* const Vs = Ks + T::kKVElems;
    const float* const Ms = reinterpret_cast<const float*>(Vs + T::kKVElems);
    const BiasT* const Bs = reinterpret_cast<const BiasT*>(reinterpret_cast<const char*>(Ks) + T::kBiasOffset);
    const int k0 = tile * kBN;

    // Whether any key of this tile is masked (warp-uniform; a partial last tile counts, its padding is zero): a
    // tile without masked keys skips the per-score compare and select.
    const bool masked_keys = mask && !__all_sync(0xffffffffu, Ms[lane] != 0.f && Ms[lane + 32] != 0.f);
    // S = bias + (scale q) k^T: the accumulators start from the bias tile (zeros without one) and the MMAs add the
    // pre-scaled products, so no per-score scale-and-add remains. A bf16 bias enters through the tensor cores: its
    // 16 x 16 blocks (ldmatrix, as A fragments) times the two halves of a 16 x 16 identity, one product per score
    // and exact (bf16 to fp32 is exact, the other terms are zeros), in place of a load and an unpacking per pair of
    // scores.
    float s[MT][8][4];
    if constexpr (!T::kHasBias) {
      // (the first product below starts from zero)
    } else if constexpr (sizeof(BiasT) == 2) {
      // The identity's halves as B fragments: this lane's k rows 2t, 2t + 1 (b0) and 2t + 8, 2t + 9 (b1) of column g.
      const uint32_t diag = (2 * t == g ? 0x3f80u : 0u) | (2 * t + 1 == g ? 0x3f800000u : 0u);
#pragma unroll
      for (int mt = 0; mt < MT; ++mt)
#pragma unroll
        for (int kb = 0; kb < 4; ++kb) {
          uint32_t bf[4];
          ldmatrix_x4(bf, Bs + (mt * kBM + warp * 16 + (lane & 7) + ((lane >> 3) & 1) * 8) * T::kBiasStride + kb * 16 +
                              (lane >> 4) * 8);
          mma_bf16_16816_zero(s[mt][2 * kb], bf, diag, 0u);
          mma_bf16_16816_zero(s[mt][2 * kb + 1], bf, 0u, diag);
        }
    } else {
#pragma unroll
      for (int mt = 0; mt < MT; ++mt)
#pragma unroll
        for (int nb = 0; nb < 8; ++nb)
#pragma unroll
          for (int hr = 0; hr < 2; ++hr) {  // rows row(mt) + 8 hr, keys nb * 8 + 2t, + 1
            const float2 x =
                *reinterpret_cast<const float2*>(Bs + (row(mt) + 8 * hr) * T::kBiasStride + nb * 8 + 2 * t);
            s[mt][nb][2 * hr] = x.x;
            s[mt][nb][2 * hr + 1] = x.y;
          }
    }
#pragma unroll
    for (int ks = 0; ks < DK / 16; ++ks)
#pragma unroll
      for (int nb = 0; nb < 8; nb += 2) {
        uint32_t kf[4];
        ldmatrix_x4(kf, Ks + (nb * 8 + (lane >> 4) * 8 + (lane & 7)) * T::kStride + ks * 16 + ((lane >> 3) & 1) * 8);
#pragma unroll
        for (int mt = 0; mt < MT; ++mt) {
          if (!T::kHasBias && ks == 0) {
            mma_bf16_16816_zero(s[mt][nb], qa[mt][ks], kf[0], kf[1]);
            mma_bf16_16816_zero(s[mt][nb + 1], qa[mt][ks], kf[2], kf[3]);
          } else {
            mma_bf16_16816(s[mt][nb], qa[mt][ks], kf[0], kf[1]);
            mma_bf16_16816(s[mt][nb + 1], qa[mt][ks], kf[2], kf[3]);
          }
        }
      }
    // Masked keys (replacement after the bias), keys past the end, then P and the rescaling factors per slab.
    uint32_t pa[MT][4][4];
    float alpha[MT][2];
#pragma unroll
    for (int mt = 0; mt < MT; ++mt) {
      if (masked_keys) mask_slab_keys(s[mt], Ms, t);
      if (k0 + kBN > K) drop_slab_keys_past(s[mt], k0, K, t);
      softmax_slab(s[mt], m[mt], pa[mt], alpha[mt]);
    }
    // Rescale O and l by alpha, without a branch (skipping it when every alpha of the warp was 1 split the loop body
    // in two; straight-line, the scheduler interleaves one slab's products with the other's softmax: MSA column
    // attention 2.71 -> 2.63-2.65 ms, MSA row 4.53 -> 4.51 ms per module at L=1024 on an H100).
#pragma unroll
    for (int mt = 0; mt < MT; ++mt) {
#pragma unroll
      for (int hr = 0; hr < 2; ++hr) {
        l[mt][2 * hr] *= alpha[mt][hr], l[mt][2 * hr + 1] *= alpha[mt][hr];
#pragma unroll
        for (int nv = 0; nv < T::kNv; ++nv) o[mt][nv][2 * hr] *= alpha[mt][hr], o[mt][nv][2 * hr + 1] *= alpha[mt][hr];
      }
    }

    // O += P V, and the row sums l += P 1 on the tensor cores: the sums of exactly the bf16 weights O receives,
    // with no per-score addition on the FP32 pipe.
    constexpr uint32_t kOnes = 0x3f803f80u;  // bf16x2 (1, 1): the B fragment of an all-ones n-block
#pragma unroll
    for (int kb = 0; kb < 4; ++kb) {
#pragma unroll
      for (int mt = 0; mt < MT; ++mt) mma_bf16_16816(l[mt], pa[mt][kb], kOnes, kOnes);
#pragma unroll
      for (int nv = 0; nv < T::kNv; nv += 2) {
        uint32_t vf[4];
        ldmatrix_x4_trans(vf,
                          Vs + (kb * 16 + ((lane >> 3) & 1) * 8 + (lane & 7)) * T::kStride + (nv + (lane >> 4)) * 8);
#pragma unroll
        for (int mt = 0; mt < MT; ++mt) {
          mma_bf16_16816(o[mt][nv], pa[mt][kb], vf[0], vf[1]);
          mma_bf16_16816(o[mt][nv + 1], pa[mt][kb], vf[2], vf[3]);
        }
      }
    }
    __syncthreads();  // this stage is free for the tile after next
  }

  const auto [gate, out] = block_outputs<uint16_t>(p, bc);
  if (vec.out) {
    // O / l into shared memory (fp32, rows padded by 16 bytes; the stages are free after the loop's last barrier),
    // then per 8 columns one 16-byte gate read and one 16-byte output write.
    float* const Os = reinterpret_cast<float*>(smem);
#pragma unroll
    for (int mt = 0; mt < MT; ++mt)
#pragma unroll
      for (int hr = 0; hr < 2; ++hr) {
        const float inv = 1.0f / l[mt][2 * hr];
        float* const orow = Os + (row(mt) + 8 * hr) * T::kOutStride;
#pragma unroll
        for (int nv = 0; nv < T::kNv; ++nv)
          *reinterpret_cast<float2*>(orow + nv * 8 + 2 * t) =
              make_float2(o[mt][nv][2 * hr] * inv, o[mt][nv][2 * hr + 1] * inv);
      }
    __syncthreads();
    write_gated_rows<DK>(Os, T::kOutStride, T::kRows, bc.rows, Dv, gate, p.gate_s1, out, p.out_s1);
    return;
  }
#pragma unroll
  for (int mt = 0; mt < MT; ++mt)
#pragma unroll
    for (int hr = 0; hr < 2; ++hr) {
      const float inv = 1.0f / l[mt][2 * hr];
      const int r = row(mt) + 8 * hr;
      if (r >= bc.rows) continue;
#pragma unroll
      for (int nv = 0; nv < T::kNv; ++nv)
#pragma unroll
        for (int e = 0; e < 2; ++e) {
          const int col = nv * 8 + 2 * t + e;
          if (col >= Dv) continue;
          float x = o[mt][nv][2 * hr + e] * inv;
          if (gate) x *= sigmoid(bf16_bits_to_float(gate[r * p.gate_s1 + col]));
          out[r * p.out_s1 + col] = float_to_bf16_bits(x);
        }
    }
}

// ---- Host side --------------------------------------------------------------------------------------------------

// FlashAttention's static switch: calls f with the smallest templated head dim >= dh (at least Lowest).
template <int Lowest, typename F>
void head_dim_switch(int64_t dh, F&& f) {
  if constexpr (Lowest <= 8) {
    if (dh <= 8) return f(std::integral_constant<int, 8>{});
  }
  if constexpr (Lowest <= 16) {
    if (dh <= 16) return f(std::integral_constant<int, 16>{});
  }
  if (dh <= 32) {
    f(std::integral_constant<int, 32>{});
  } else {
    f(std::integral_constant<int, 64>{});
  }
}

int64_t query_tiles(const FlashAttentionParams& p, int tile_rows) { return (p.Q + tile_rows - 1) / tile_rows; }

// Launches kernel(p, n_qtiles, flags...) over every (batch, head, query tile).
template <typename Kernel, typename... Flags>
void launch(Kernel kernel, size_t smem, const FlashAttentionParams& p, cudaStream_t stream, const char* what,
            int tile_rows, Flags... flags) {
  const int64_t n_qtiles = query_tiles(p, tile_rows), blocks = n_qtiles * p.H * p.B;
  AXF_CHECK(blocks <= INT32_MAX, "flash attention: ", blocks, " blocks exceed the grid limit");
  AXF_CUDA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(smem)));
  kernel<<<static_cast<unsigned>(blocks), kThreads, smem, stream>>>(p, static_cast<int>(n_qtiles), flags...);
  AXF_CUDA_CHECK_LAUNCH(what);
}

// Slabs of 64 query rows per bf16 block: two with a bias, one without, unless AXF_FLASH_SLABS=1 or 2 says (read
// once). Measured per module at L=1024 on an H100 (bench --modules): two slabs made the MSA row attention 5.68 ->
// 5.46 ms and the triangle attention 5.42/5.71 -> 5.23/5.53 ms (each K/V tile serves 128 query rows), and the
// bias-free MSA column attention 3.39 -> 3.47 ms.
int flash_slabs(bool with_bias) {
  static const int forced = [] {
    const char* e = std::getenv("AXF_FLASH_SLABS");
    return e && (e[0] == '1' || e[0] == '2') && e[1] == 0 ? e[0] - '0' : 0;
  }();
  return forced != 0 ? forced : with_bias ? 2 : 1;
}

}  // namespace

bool flash_attention_supported(const FlashAttentionParams& p) {
  const bool f32 = p.dtype == ElemType::F32 && p.bias_dtype == ElemType::F32;
  const bool bf16 = p.dtype == ElemType::BF16 && (p.bias_dtype == ElemType::F32 || p.bias_dtype == ElemType::BF16);
  return (f32 || bf16) && p.D >= 1 && p.Dv >= 1 && p.D <= kFlashMaxHeadDim && p.Dv <= kFlashMaxHeadDim &&
         (p.Hk == p.H || p.Hk == 1) && p.Q < (int64_t{1} << 30) && p.K < (int64_t{1} << 30);
}

void launch_flash_attention(const FlashAttentionParams& p, cudaStream_t stream) {
  AXF_CHECK(flash_attention_supported(p), "flash attention: unsupported problem (D=", p.D, ", Dv=", p.Dv,
            ", dtype ", static_cast<int>(p.dtype), ")");
  if (p.B == 0 || p.Q == 0 || p.H == 0) return;
  AXF_CHECK(p.K > 0, "attention with no keys");
  const int64_t dh = p.D > p.Dv ? p.D : p.Dv;
  if (p.dtype == ElemType::F32) {
    const bool v_vec = aligned(p.v, 16) && p.Dv % 4 == 0 && p.v_s0 % 4 == 0 && p.v_s1 % 4 == 0 && p.v_s2 % 4 == 0;
    const bool bias_vec = p.bias && aligned(p.bias, 16) && p.bias_s2 == 1 && p.bias_s0 % 4 == 0 && p.bias_s1 % 4 == 0;
    head_dim_switch<8>(dh, [&](auto c) {
      constexpr int DH = decltype(c)::value;
      launch(flash_attention_f32<DH>, F32Tile<DH>::kSmemBytes, p, stream, "flash_attention_f32", kBM, v_vec, bias_vec);
    });
  } else if (flash_attention_sm90_takes(p)) {
    launch_flash_attention_sm90(p, stream);
  } else {
    Bf16Vectors vec;
    vec.kv = p.D % 8 == 0 && p.Dv % 8 == 0 && rows_in_packets(p.k, p.k_s0, p.k_s1, p.k_s2) &&
             rows_in_packets(p.v, p.v_s0, p.v_s1, p.v_s2);
    vec.q = p.D % 8 == 0 && rows_in_packets(p.q, p.q_s0, p.q_s1, p.q_s2);
    vec.out = p.Dv % 8 == 0 && rows_in_packets(p.out, p.out_s0, p.out_s1, p.out_s2) &&
              (!p.gate || rows_in_packets(p.gate, p.gate_s0, p.gate_s1, p.gate_s2));
    // 16-byte bias copies: aligned base, dense keys, row and head strides multiples of 16 bytes.
    const bool bias_bf16 = p.bias_dtype == ElemType::BF16;
    const int64_t chunk = bias_bf16 ? 8 : 4;
    vec.bias = p.bias && aligned(p.bias, 16) && p.bias_s2 == 1 && p.bias_s0 % chunk == 0 && p.bias_s1 % chunk == 0;
    const int slabs = flash_slabs(p.bias != nullptr);
    head_dim_switch<16>(dh, [&](auto c) {
      constexpr int DK = decltype(c)::value;
      auto go = [&](auto bias_t, auto mt) {
        using BiasT = decltype(bias_t);
        constexpr int MT = decltype(mt)::value;
        using T = Bf16Tile<DK, BiasT, MT>;
        const size_t smem = T::kHasBias ? T::kSmemBytes : kStages * T::kBiasOffset;
        launch(flash_attention_bf16<DK, BiasT, MT>, smem, p, stream, "flash_attention_bf16", T::kRows, vec);
      };
      auto with_slabs = [&](auto mt) {
        if (!p.bias) {
          go(NoBias{}, mt);
        } else if (bias_bf16) {
          go(uint16_t{}, mt);
        } else {
          go(float{}, mt);
        }
      };
      if (slabs == 2) {
        with_slabs(std::integral_constant<int, 2>{});
      } else {
        with_slabs(std::integral_constant<int, 1>{});
      }
    });
  }
}

}  // namespace axf::kernels
