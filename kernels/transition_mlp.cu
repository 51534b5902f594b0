#include "kernels/transition_mlp.cuh"

#include <algorithm>

#include "backend/cuda/cuda_check.h"
#include "kernels/flash_attention_sm90.cuh"
#include "kernels/mma_sm80.cuh"
#include "kernels/row_fragments.cuh"
#include "kernels/rows.cuh"
#include "kernels/wgmma_sm90.cuh"

namespace axf::kernels {

namespace {

constexpr int kWarps = 8;
constexpr int kThreads = 32 * kWarps;
constexpr int kWarpRows = 16;  // rows per warp tile (the m of one mma)
constexpr int kChunk = 64;     // hidden units per step: the first product's n, the second's k

// What a pass does with the update of its hidden slice: the whole update (one pass), the first half's share into
// `partial`, or the second half's plus `partial` into the rows.
enum class Pass { kWhole, kFirst, kLast };

// The products run on mma.sync (every warp its own 16-row tiles, weights in padded rows read by ldmatrix) or, with
// kWgmma on sm_90a, on the warpgroup tensor cores: the 4 warps of a warpgroup take the 64 rows of one tile (each
// still loads, normalises and writes back its own 16), and the weights sit in wgmma's no-swizzle core matrices,
// read once per 64 rows instead of once per 16 (the mma.sync form is bound by those shared-memory reads).
template <int C, int HS, bool kWgmma>
struct TransitionTile {
  static constexpr int kStrideC = C + 8;   // bf16 per shared row of C (16 bytes of padding: conflict-free ldmatrix)
  static constexpr int kStrideH = HS + 8;  // bf16 per shared row of the w1 slice
  // The weights: [K][N] rows of kStrideH (w1) or kStrideC (w2), or core matrices (k / 8, n / 8) of 8 x 16 bytes,
  // 128 bytes apart along n and N * 16 along k (weight_offset).
  static constexpr size_t kW1Elems = static_cast<size_t>(C) * (kWgmma ? HS : kStrideH);
  static constexpr size_t kWeightElems = kW1Elems + static_cast<size_t>(HS) * (kWgmma ? C : kStrideC);
  static constexpr size_t kParamFloats = 3 * C + HS;  // scale, offset, b2, b1 slice
  static constexpr size_t kStageElems = static_cast<size_t>(kWarpRows) * kStrideC;
  static constexpr size_t kSmemBytes = kWeightElems * 2 + kParamFloats * sizeof(float) + 2 * kWarps * kStageElems * 2;
  static constexpr int kMinBlocks = kSmemBytes * 2 <= 227 * 1024 ? 2 : 1;
  static constexpr int kGroupWarps = kWgmma ? 4 : 1;  // warps sharing one tile of rows (RowTiles)
};

template <int C, int HS, Pass P, bool kWgmma>
__global__ void __launch_bounds__(kThreads, (TransitionTile<C, HS, kWgmma>::kMinBlocks))
    transition_kernel(const TransitionParams p, int64_t h0) {
  using T = TransitionTile<C, HS, kWgmma>;
  extern __shared__ float4 smem_f4[];
  uint16_t* const W1 = reinterpret_cast<uint16_t*>(smem_f4);  // w1[:, h0 .. h0 + HS)
  uint16_t* const W2 = W1 + T::kW1Elems;                       // w2[h0 .. h0 + HS, :]
  float* const scale = reinterpret_cast<float*>(W1 + T::kWeightElems);
  float* const offset = scale + C;
  float* const out_b = offset + C;
  float* const hid_b = out_b + C;
  uint16_t* const stages = reinterpret_cast<uint16_t*>(hid_b + HS);  // per warp two stages of [16][kStrideC]

  const int tid = threadIdx.x, warp = tid >> 5, lane = tid & 31, g = lane >> 2, t = lane & 3;
  const uint16_t* const w1 = static_cast<const uint16_t*>(p.w1);
  const uint16_t* const w2 = static_cast<const uint16_t*>(p.w2);
  for (int e = tid; e < C * HS / 8; e += kThreads) {
    const int r = e / (HS / 8), c8 = (e % (HS / 8)) * 8;
    cp_async_16(W1 + weight_offset<kWgmma>(r, c8, T::kStrideH, HS), w1 + r * p.hidden + h0 + c8, true);
  }
  for (int e = tid; e < HS * C / 8; e += kThreads) {
    const int r = e / (C / 8), c8 = (e % (C / 8)) * 8;
    cp_async_16(W2 + weight_offset<kWgmma>(r, c8, T::kStrideC, C), w2 + (h0 + r) * C + c8, true);
  }
  cp_async_commit();
  for (int e = tid; e < C; e += kThreads) {
    scale[e] = p.ln_scale[e];
    offset[e] = p.ln_offset[e];
    out_b[e] = P == Pass::kFirst ? 0.f : p.b2[e];
  }
  for (int e = tid; e < HS; e += kThreads) hid_b[e] = p.b1[h0 + e];
  weights_arrived<kWgmma>();  // weights and parameters are in; from here on the warps (warpgroups) run on their own

  uint16_t* const act = static_cast<uint16_t*>(p.act);
  const RowTiles<T::kGroupWarps> tiles(p.rows, warp, kWarps);
  auto load_tile = [&](int64_t tile, int stage) {
    load_rows_async<C>(stages + (warp * 2 + stage) * T::kStageElems, T::kStrideC, act, p.act_ld,
                       tiles.first_row(tile), p.rows, lane);
    cp_async_commit();
  };
  warp_tile_pipeline(tiles.first, tiles.count, tiles.step, load_tile, [&](int64_t tile, int stage) {
    uint16_t* const As = stages + (warp * 2 + stage) * T::kStageElems;
    const int64_t row0 = tiles.first_row(tile);

    // LayerNorm of rows g and g + 8: each quad lane reads only the columns of its A fragments, and so do its
    // epilogue writes below (no lane reads an element another lane rewrites).
    uint32_t xa[C / 16][4];
    layer_norm_fragments<C>(As, T::kStrideC, g, g + 8, t, scale, offset, p.eps, xa);

    // The first half's share of the update (second pass), loaded now so that it arrives during the products.
    uint32_t share[C / 8][2];
    if constexpr (P == Pass::kLast) {
      const uint16_t* const part = static_cast<const uint16_t*>(p.partial);
#pragma unroll
      for (int hr = 0; hr < 2; ++hr) {
        const int64_t row = row0 + g + 8 * hr;
        const bool ok = row < p.rows;
#pragma unroll
        for (int nb = 0; nb < C / 8; ++nb)
          share[nb][hr] = ok ? __ldg(reinterpret_cast<const unsigned int*>(part + row * C + nb * 8 + 2 * t)) : 0u;
      }
    }

    float o[C / 8][4] = {};
#pragma unroll 1
    for (int hc = 0; hc < HS; hc += kChunk) {
      // hidden = relu(x @ w1[:, chunk] + b1[chunk]), the accumulators starting from the bias.
      float h[kChunk / 8][4];
#pragma unroll
      for (int nb = 0; nb < kChunk / 8; ++nb) {
        const float2 b = *reinterpret_cast<const float2*>(hid_b + hc + nb * 8 + 2 * t);
        h[nb][0] = h[nb][2] = b.x, h[nb][1] = h[nb][3] = b.y;
      }
      if constexpr (kWgmma) {
#if defined(AXF_WGMMA)
        // The previous chunk's second product may still run: it reads ha and adds into o, neither touched here.
        constexpr uint32_t kGroup = HS * 16;  // bytes between core matrices along k
        const uint32_t w1_addr = smem_addr(W1) + hc / 8 * 128;
        wgmma_fence();
#pragma unroll
        for (int ks = 0; ks < C / 16; ++ks)
          wgmma_m64n64k16_mnmajor(h, xa[ks], wgmma_desc(w1_addr + 2 * ks * kGroup, kGroup, 128), 1);
        wgmma_commit();
        wgmma_wait<0>();  // (and the previous chunk's second product: ha is free)
        wgmma_fence_operands(h);
#endif
      } else {
        accumulate_product<C / 16, kChunk / 8>(h, xa, W1 + hc, T::kStrideH, lane);
      }
      // The accumulators of n-blocks 2 ks and 2 ks + 1 are the A fragment of k-block ks (rows g, g + 8).
      uint32_t ha[kChunk / 16][4];
#pragma unroll
      for (int ks = 0; ks < kChunk / 16; ++ks)
#pragma unroll
        for (int half = 0; half < 2; ++half) {
          const float(&v)[4] = h[2 * ks + half];
          ha[ks][2 * half] = pack_bf16x2(fmaxf(v[0], 0.f), fmaxf(v[1], 0.f));
          ha[ks][2 * half + 1] = pack_bf16x2(fmaxf(v[2], 0.f), fmaxf(v[3], 0.f));
        }
      if constexpr (kWgmma) {
#if defined(AXF_WGMMA)
        constexpr uint32_t kGroup = C * 16;
        const uint32_t w2_addr = smem_addr(W2) + hc / 8 * kGroup;
        wgmma_fence();
#pragma unroll
        for (int ks = 0; ks < kChunk / 16; ++ks) {
          const uint64_t desc = wgmma_desc(w2_addr + 2 * ks * kGroup, kGroup, 128);
          if constexpr (C == 128) {
            wgmma_m64n128k16_mnmajor(o, ha[ks], desc, 1);
          } else {
            wgmma_m64n64k16_mnmajor(o, ha[ks], desc, 1);
          }
        }
        wgmma_commit();
#endif
      } else {
        accumulate_product<kChunk / 16, C / 8>(o, ha, W2 + hc * T::kStrideC, T::kStrideC, lane);
      }
    }
#if defined(AXF_WGMMA)
    if constexpr (kWgmma) {
      wgmma_wait<0>();
      wgmma_fence_operands(o);
    }
#endif

    if constexpr (P == Pass::kFirst) {
      // This half's share of the update, rounded to bf16, for the second pass.
      uint16_t* const part = static_cast<uint16_t*>(p.partial);
#pragma unroll
      for (int nb = 0; nb < C / 8; ++nb)
#pragma unroll
        for (int hr = 0; hr < 2; ++hr) {
          const int64_t row = row0 + g + 8 * hr;
          if (row < p.rows)
            *reinterpret_cast<uint32_t*>(part + row * C + nb * 8 + 2 * t) =
                pack_bf16x2(o[nb][2 * hr], o[nb][2 * hr + 1]);
        }
    } else {
      // act += update + b2 (+ the first half's share), rounded once, in place in the stage.
#pragma unroll
      for (int nb = 0; nb < C / 8; ++nb)
#pragma unroll
        for (int hr = 0; hr < 2; ++hr) {
          const int r = g + 8 * hr, col = nb * 8 + 2 * t;
          float2 u = make_float2(o[nb][2 * hr] + out_b[col], o[nb][2 * hr + 1] + out_b[col + 1]);
          if constexpr (P == Pass::kLast) u.x += bf16_lo(share[nb][hr]), u.y += bf16_hi(share[nb][hr]);
          uint32_t* const dst = reinterpret_cast<uint32_t*>(As + r * T::kStrideC + col);
          const uint32_t old = *dst;
          *dst = pack_bf16x2(bf16_lo(old) + u.x, bf16_hi(old) + u.y);
        }
      __syncwarp();
      for (int e = lane; e < kWarpRows * C / 8; e += 32) {
        const int r = e / (C / 8), c8 = (e % (C / 8)) * 8;
        if (row0 + r < p.rows)
          *reinterpret_cast<uint4*>(act + (row0 + r) * p.act_ld + c8) =
              *reinterpret_cast<const uint4*>(As + r * T::kStrideC + c8);
      }
    }
  });
}

template <int C, int HS, Pass P, bool kWgmma>
void launch_pass(const TransitionParams& p, int64_t h0, cudaStream_t stream) {
  using T = TransitionTile<C, HS, kWgmma>;
  auto kernel = transition_kernel<C, HS, P, kWgmma>;
  const int64_t resident = resident_blocks(kernel, kThreads, T::kSmemBytes);
  const int64_t tiles = (p.rows + kWarps * kWarpRows - 1) / (kWarps * kWarpRows);  // of all warps' rows
  const int64_t blocks = std::min<int64_t>(tiles, resident);
  kernel<<<static_cast<unsigned>(blocks), kThreads, T::kSmemBytes, stream>>>(p, h0);
  AXF_CUDA_CHECK_LAUNCH("transition_kernel");
}

template <bool kWgmma>
void launch_widths(const TransitionParams& p, cudaStream_t stream) {
  if (p.c == 128) {
    launch_pass<128, 256, Pass::kFirst, kWgmma>(p, 0, stream);
    launch_pass<128, 256, Pass::kLast, kWgmma>(p, 256, stream);
  } else if (p.hidden == 256) {
    launch_pass<64, 256, Pass::kWhole, kWgmma>(p, 0, stream);
  } else {
    launch_pass<64, 128, Pass::kWhole, kWgmma>(p, 0, stream);
  }
}

}  // namespace

bool transition_fits(const TransitionParams& p) {
  return transition_supported(p.c, p.hidden) && aligned(p.act, 16) && aligned(p.w1, 16) && aligned(p.w2, 16) &&
         (p.rows <= 1 || p.act_ld % 8 == 0) &&
         (transition_passes(p.c, p.hidden) == 1 || (p.partial != nullptr && aligned(p.partial, 16)));
}

void launch_transition(const TransitionParams& p, cudaStream_t stream) {
  AXF_CHECK(transition_fits(p), "transition: unsupported widths c=", p.c, ", hidden=", p.hidden,
            ", unaligned rows or no scratch for the two passes");
  if (p.rows == 0) return;
  if (sm90a_kernels_usable()) {
    launch_widths<true>(p, stream);
  } else {
    launch_widths<false>(p, stream);
  }
}

}  // namespace axf::kernels
