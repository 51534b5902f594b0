#include "kernels/flash_attention_sm90.cuh"

#include <cuda_bf16.h>

#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "backend/cuda/cuda_check.h"
#include "kernels/flash_attention_device.cuh"
#include "kernels/mma_sm80.cuh"
#include "kernels/wgmma_sm90.cuh"

namespace axf::kernels {

namespace {

using namespace flash;

constexpr int kWarpgroups = 2;
constexpr int kThreads = 128 * kWarpgroups;
constexpr int kRows = kBM * kWarpgroups;  // query rows per block
constexpr int kDK = 32;                   // head dims (smaller ones are zero-padded)
// Tiles in shared memory: the next one loads (cp.async) while the warpgroups work on this one.
constexpr int kTileStages = 2;
constexpr int kPieces = kDK / 8;          // 16-byte pieces per key row

// One stage of shared memory (bytes). The key and value tiles are laid out in wgmma's no-swizzle core matrices:
// piece (key j, head dims 8c .. 8c + 7) at (j / 8) * group + 128 c + 16 (j % 8). The value tile's groups carry one
// more piece of ones (c = kPieces), written once: O's column block of row sums.
constexpr uint32_t kKGroup = kPieces * 128;
constexpr uint32_t kVGroup = (kPieces + 1) * 128;
constexpr uint32_t kKBytes = kBN / 8 * kKGroup;
constexpr uint32_t kVBytes = kBN / 8 * kVGroup;
constexpr uint32_t kMaskOffset = kKBytes + kVBytes;  // kBN fp32 key-mask values
constexpr uint32_t kBiasOffset = kMaskOffset + kBN * sizeof(float);
// Bias tile [kRows][kBN] bf16, rows padded by 16 bytes: a warp's fragment reads (8 rows x 4 key pairs) hit 32 banks.
constexpr int kBiasStride = kBN + 8;
constexpr uint32_t kStageBytes = kBiasOffset + kRows * kBiasStride * sizeof(uint16_t);
// The q tile (bf16 [kRows][kQStride]) passes through the start of shared memory before the first tile loads; O / l
// (fp32 [kRows][kOutStride]) through the stages after the last.
constexpr int kQStride = kDK + 8;
constexpr int kOutStride = kDK + 4;
static_assert(kRows * kQStride * sizeof(uint16_t) <= kTileStages * kBiasOffset, "the q tile must fit the stages");
static_assert(kRows * kOutStride * sizeof(float) <= kTileStages * kBiasOffset, "O / l must fit the stages");
static_assert(kThreads == kBN * kPieces, "one key piece and one value piece per thread per tile");
static_assert(kBiasOffset % 16 == 0 && kStageBytes % 16 == 0, "16-byte aligned tiles");

template <bool kHasBias>
__global__ void __launch_bounds__(kThreads, 2)
    flash_attention_sm90(const FlashAttentionParams p, int n_qtiles) {
#if defined(AXF_WGMMA)
  extern __shared__ float4 smem_f4[];
  char* const smem = reinterpret_cast<char*>(smem_f4);
  const int tid = threadIdx.x, warp = tid >> 5, lane = tid & 31, g = lane >> 2, t = lane & 3;
  // Warp w is warp w % 4 of warpgroup w / 4, so its 16 rows of A and D are the block's rows 16 w .. 16 w + 15.
  const int r0 = warp * 16 + g;  // this thread's rows: r0 and r0 + 8
  const BlockCoords bc = block_coords(p, n_qtiles, kRows);
  const int D = static_cast<int>(p.D), Dv = static_cast<int>(p.Dv), K = static_cast<int>(p.K);
  const auto [q, k, v, mask, bias] = block_inputs<uint16_t>(p, bc);
  const int n_tiles = (K + kBN - 1) / kBN;
  constexpr uint32_t stage_bytes = kHasBias ? kStageBytes : kBiasOffset;
  auto stage = [&](int tile) { return smem + (tile % kTileStages) * stage_bytes; };

  // q, scaled, as A fragments (qa[ks]: head dims 16 ks .. 16 ks + 15): 16-byte copies into shared memory, then
  // ldmatrix. The scale is applied to q and rounded to bf16 once, as AlphaFold scales q before its logits einsum.
  {
    uint16_t* const Qs = reinterpret_cast<uint16_t*>(smem);
    for (int e = tid; e < kRows * kPieces; e += kThreads) {
      const int r = e / kPieces, c = (e % kPieces) * 8;
      const bool ok = r < bc.rows && c < D;
      cp_async_16(Qs + r * kQStride + c, ok ? q + r * p.q_s1 + c : q, ok);
    }
    cp_async_commit();
    cp_async_wait<0>();
    __syncthreads();
  }
  uint32_t qa[kDK / 16][4];
  {
    const uint16_t* const Qs = reinterpret_cast<const uint16_t*>(smem);
    auto scaled = [&](uint16_t x, int c) { return c < D ? float_to_bf16_bits(bf16_bits_to_float(x) * p.scale) : 0u; };
#pragma unroll
    for (int ks = 0; ks < kDK / 16; ++ks) {
      ldmatrix_x4(qa[ks], Qs + (warp * 16 + (lane & 7) + ((lane >> 3) & 1) * 8) * kQStride + ks * 16 + (lane >> 4) * 8);
#pragma unroll
      for (int reg = 0; reg < 4; ++reg) {
        const int c = ks * 16 + (reg >> 1) * 8 + 2 * t;
        qa[ks][reg] = scaled(static_cast<uint16_t>(qa[ks][reg] & 0xffffu), c) |
                      (scaled(static_cast<uint16_t>(qa[ks][reg] >> 16), c + 1) << 16);
      }
    }
    __syncthreads();  // the q tile's shared memory is free for the tiles
  }

  // Each thread's share of a tile: one 16-byte piece of the key tile and one of the value tile (key kv_j, head dims
  // 8 kv_c ..), four of the bias tile (rows b_r0 + 32 it, keys b_c0 .. + 7); the sources advance one tile per load.
  const int kv_j = tid / kPieces, kv_c = tid % kPieces;
  const bool k_piece = kv_c * 8 < D, v_piece = kv_c * 8 < Dv;
  const uint32_t k_dst = (kv_j / 8) * kKGroup + kv_c * 128 + (kv_j % 8) * 16;
  const uint32_t v_dst = kKBytes + (kv_j / 8) * kVGroup + kv_c * 128 + (kv_j % 8) * 16;
  const uint16_t* k_next = k + kv_j * p.k_s1 + kv_c * 8;
  const uint16_t* v_next = v + kv_j * p.v_s1 + kv_c * 8;
  const int64_t k_tile_step = kBN * p.k_s1, v_tile_step = kBN * p.v_s1;
  constexpr int kBiasRowStep = kThreads / (kBN / 8);
  const int b_r0 = tid / (kBN / 8), b_c0 = (tid % (kBN / 8)) * 8;
  const uint16_t* b_next = kHasBias ? bias + b_r0 * p.bias_s1 + b_c0 : nullptr;
  const int64_t b_step = kBiasRowStep * p.bias_s1;

  auto load_tile = [&](int tile) {
    char* const st = stage(tile);
    const int k0 = tile * kBN, nk = min(kBN, K - k0);
    const bool okk = kv_j < nk && k_piece, okv = kv_j < nk && v_piece;
    cp_async_16(st + k_dst, okk ? k_next : k, okk);
    cp_async_16(st + v_dst, okv ? v_next : v, okv);
    k_next += k_tile_step;
    v_next += v_tile_step;
    float* const Ms = reinterpret_cast<float*>(st + kMaskOffset);
    if (mask && tid < kBN) cp_async_4(Ms + tid, tid < nk ? mask + (k0 + tid) * p.mask_s1 : mask, tid < nk);
    if constexpr (kHasBias) {
      uint16_t* const Bs = reinterpret_cast<uint16_t*>(st + kBiasOffset);
      if (nk == kBN) {
#pragma unroll
        for (int it = 0; it < kRows / kBiasRowStep; ++it) {
          const int r = b_r0 + it * kBiasRowStep;
          const bool ok = r < bc.rows;
          cp_async_16(Bs + r * kBiasStride + b_c0, ok ? b_next + it * b_step : bias, ok);
        }
        b_next += kBN;
      } else {  // the last, partial tile: element by element, zeros past the keys and rows
        for (int e = tid; e < kRows * kBN; e += kThreads) {
          const int r = e / kBN, c = e % kBN;
          Bs[r * kBiasStride + c] = r < bc.rows && c < nk ? bias[r * p.bias_s1 + (k0 + c) * p.bias_s2] : uint16_t{0};
        }
      }
    }
    cp_async_commit();
  };

  load_tile(0);
  // The value tiles' piece of ones, in every stage (no copy ever writes it).
  for (int e = tid; e < kTileStages * kBN; e += kThreads) {
    const int j = e % kBN;
    *reinterpret_cast<uint4*>(smem + (e / kBN) * stage_bytes + kKBytes + (j / 8) * kVGroup + kPieces * 128 +
                              (j % 8) * 16) = make_uint4(0x3f803f80u, 0x3f803f80u, 0x3f803f80u, 0x3f803f80u);
  }

  float o[5][4] = {};  // O [64 x 40] of this warpgroup: head dims in column blocks 0..3, the row sums in block 4
  float m[2] = {-INFINITY, -INFINITY};  // running maxima of rows r0 and r0 + 8
  for (int tile = 0; tile < n_tiles; ++tile) {
    if (tile + 1 < n_tiles) {
      load_tile(tile + 1);
      cp_async_wait<1>();
    } else {
      cp_async_wait<0>();
    }
    fence_proxy_async_shared();  // this thread's copies (and the ones) are visible to wgmma after the barrier
    __syncthreads();
    const char* const st = stage(tile);
    const uint32_t st_addr = smem_addr(st);
    const float* const Ms = reinterpret_cast<const float*>(st + kMaskOffset);
    const int k0 = tile * kBN;
    // Whether any key of this tile is masked (warp-uniform): a tile without masked keys skips the selects.
    const bool masked_keys = mask && !__all_sync(0xffffffffu, Ms[lane] != 0.f && Ms[lane + 32] != 0.f);

    // S = bias + (scale q) k^T: the accumulators start from the bias tile.
    float s[8][4];
    if constexpr (kHasBias) {
      const uint16_t* const Bs = reinterpret_cast<const uint16_t*>(st + kBiasOffset);
#pragma unroll
      for (int nb = 0; nb < 8; ++nb)
#pragma unroll
        for (int hr = 0; hr < 2; ++hr) {
          const uint32_t x = *reinterpret_cast<const uint32_t*>(Bs + (r0 + 8 * hr) * kBiasStride + nb * 8 + 2 * t);
          s[nb][2 * hr] = __uint_as_float(x << 16);
          s[nb][2 * hr + 1] = __uint_as_float(x & 0xffff0000u);
        }
      wgmma_fence();
      wgmma_m64n64k16_kmajor(s, qa[0], wgmma_desc(st_addr, 128, kKGroup), 1);
    } else {
      wgmma_fence();
      wgmma_m64n64k16_kmajor_zero(s, qa[0], wgmma_desc(st_addr, 128, kKGroup));
    }
#pragma unroll
    for (int ks = 1; ks < kDK / 16; ++ks)
      wgmma_m64n64k16_kmajor(s, qa[ks], wgmma_desc(st_addr + 256 * ks, 128, kKGroup), 1);
    wgmma_commit();
    wgmma_wait<0>();
    wgmma_fence_operands(s);

    // Masked keys (replacement after the bias, as AlphaFold does), keys past the end, then P and the rescaling.
    if (masked_keys) mask_slab_keys(s, Ms, t);
    if (k0 + kBN > K) drop_slab_keys_past(s, k0, K, t);
    uint32_t pa[4][4];
    float alpha[2];
    softmax_slab(s, m, pa, alpha);
    // Rescale O and the row sums, unless no row of the warp found a new maximum (multiplications by 1 skipped).
    if (!__all_sync(0xffffffffu, alpha[0] == 1.f && alpha[1] == 1.f)) {
#pragma unroll
      for (int nb = 0; nb < 5; ++nb) {
        o[nb][0] *= alpha[0], o[nb][1] *= alpha[0];
        o[nb][2] *= alpha[1], o[nb][3] *= alpha[1];
      }
    }

    // O += P [v | 1]: the value tile as an MN-major operand, core matrices kVGroup bytes apart along K (keys) and
    // 128 along N (head dims).
    wgmma_fence();
#pragma unroll
    for (int kb = 0; kb < 4; ++kb)
      wgmma_m64n40k16_mnmajor(o, pa[kb], wgmma_desc(st_addr + kKBytes + kb * 2 * kVGroup, kVGroup, 128), 1);
    wgmma_commit();
    wgmma_wait<0>();
    wgmma_fence_operands(o);
    __syncthreads();  // this stage is free for the tile after next
  }

  // O / l into shared memory (the stages are free after the loop's last barrier), then the gated 16-byte writes.
  float* const Os = reinterpret_cast<float*>(smem);
#pragma unroll
  for (int hr = 0; hr < 2; ++hr) {
    const float inv = 1.0f / o[4][2 * hr];
    float* const orow = Os + (r0 + 8 * hr) * kOutStride;
#pragma unroll
    for (int nv = 0; nv < kDK / 8; ++nv)
      *reinterpret_cast<float2*>(orow + nv * 8 + 2 * t) =
          make_float2(o[nv][2 * hr] * inv, o[nv][2 * hr + 1] * inv);
  }
  __syncthreads();
  const auto [gate, out] = block_outputs<uint16_t>(p, bc);
  write_gated_rows<kDK>(Os, kOutStride, kRows, bc.rows, Dv, gate, p.gate_s1, out, p.out_s1);
#else
  __trap();  // never launched: the host takes this kernel only on sm_90 cards with an sm_90a build
#endif
}

}  // namespace

bool sm90a_kernels_usable() {
#if defined(AXF_CUDA_SM90A)
  static const bool refused = [] {
    const char* e = std::getenv("AXF_NO_WGMMA");
    return e && std::string_view(e) == "1";
  }();
  if (refused) return false;
  static int cc[64] = {};  // compute capability per device, 0 until asked
  int dev = 0;
  AXF_CUDA_CHECK(cudaGetDevice(&dev));
  if (dev < 0 || dev >= 64) return false;
  if (cc[dev] == 0) {
    int major = 0, minor = 0;
    AXF_CUDA_CHECK(cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, dev));
    AXF_CUDA_CHECK(cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, dev));
    cc[dev] = major * 10 + minor;
  }
  return cc[dev] == 90;
#else
  return false;
#endif
}

bool flash_attention_sm90_takes(const FlashAttentionParams& p) {
#if defined(AXF_CUDA_SM90A)
  static const bool enabled = [] {
    const char* e = std::getenv("AXF_FLASH_WGMMA");
    return e && std::string_view(e) == "1";
  }();
  const int64_t dh = p.D > p.Dv ? p.D : p.Dv;
  if (!enabled || p.dtype != ElemType::BF16 || dh <= 16 || dh > kDK || p.D % 8 != 0 || p.Dv % 8 != 0) return false;
  if (!(p.Hk == p.H || p.Hk == 1) || p.Q >= (int64_t{1} << 30) || p.K >= (int64_t{1} << 30)) return false;
  if (p.bias && !(p.bias_dtype == ElemType::BF16 && aligned(p.bias, 16) && p.bias_s2 == 1 && p.bias_s0 % 8 == 0 &&
                  p.bias_s1 % 8 == 0))
    return false;
  if (!rows_in_packets(p.q, p.q_s0, p.q_s1, p.q_s2) || !rows_in_packets(p.k, p.k_s0, p.k_s1, p.k_s2) ||
      !rows_in_packets(p.v, p.v_s0, p.v_s1, p.v_s2) || !rows_in_packets(p.out, p.out_s0, p.out_s1, p.out_s2) ||
      (p.gate && !rows_in_packets(p.gate, p.gate_s0, p.gate_s1, p.gate_s2)))
    return false;
  return sm90a_kernels_usable();
#else
  (void)p;
  return false;
#endif
}

void launch_flash_attention_sm90(const FlashAttentionParams& p, cudaStream_t stream) {
  AXF_CHECK(flash_attention_sm90_takes(p), "flash attention (sm_90a): unsupported problem");
#if defined(AXF_CUDA_SM90A)
  if (p.B == 0 || p.Q == 0 || p.H == 0) return;
  AXF_CHECK(p.K > 0, "attention with no keys");
  const int64_t n_qtiles = (p.Q + kRows - 1) / kRows, blocks = n_qtiles * p.H * p.B;
  AXF_CHECK(blocks <= INT32_MAX, "flash attention: ", blocks, " blocks exceed the grid limit");
  auto go = [&](auto kernel, uint32_t stage_bytes) {
    const int smem = static_cast<int>(kTileStages * stage_bytes);
    AXF_CUDA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, smem));
    kernel<<<static_cast<unsigned>(blocks), kThreads, smem, stream>>>(p, static_cast<int>(n_qtiles));
    AXF_CUDA_CHECK_LAUNCH("flash_attention_sm90");
  };
  if (p.bias) {
    go(flash_attention_sm90<true>, kStageBytes);
  } else {
    go(flash_attention_sm90<false>, kBiasOffset);
  }
#endif
}

}  // namespace axf::kernels
