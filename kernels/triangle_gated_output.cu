#include "kernels/triangle_gated_output.cuh"

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

// The products run on mma.sync (every warp its own 16-row tiles, weights in padded rows read by ldmatrix) or, with
// kWgmma on sm_90a, on the warpgroup tensor cores: the 4 warps of a warpgroup take the 64 rows of one tile (each
// still loads, normalises and writes back its own 16) and the weights sit in wgmma's core matrices, read once per
// 64 rows instead of once per 16 (transition_mlp.cu does the same).
template <int CZ, int C, bool kWgmma>
struct GatedOutputTile {
  static constexpr int kStrideZ = CZ + 8;  // bf16 per shared row (16 bytes of padding: conflict-free ldmatrix)
  static constexpr int kStrideC = C + 8;
  static constexpr size_t kWeightElems = static_cast<size_t>(CZ + C) * (kWgmma ? CZ : kStrideZ);
  static constexpr size_t kStageElems = static_cast<size_t>(kWarpRows) * (kStrideZ + kStrideC);  // pair and t rows
  static constexpr size_t kSmemBytes = kWeightElems * 2 + 4 * CZ * sizeof(float) + 2 * kWarps * kStageElems * 2;
  static constexpr int kHalf = kWgmma ? 64 : CZ / 2;  // output columns per pass over the products
  static constexpr int kNb = kHalf / 8;               // n-blocks per pass
  static constexpr int kGroupWarps = kWgmma ? 4 : 1;  // warps sharing one tile of rows (RowTiles)
};

template <int CZ, int C, bool kWgmma>
__global__ void __launch_bounds__(kThreads, 1) triangle_gated_output_kernel(const TriangleGatedOutputParams p) {
  using T = GatedOutputTile<CZ, C, kWgmma>;
  extern __shared__ float4 smem_f4[];
  uint16_t* const Wg = reinterpret_cast<uint16_t*>(smem_f4);  // [CZ][CZ] (weight_offset)
  uint16_t* const Wo = Wg + CZ * (kWgmma ? CZ : T::kStrideZ);  // [C][CZ]
  float* const scale = reinterpret_cast<float*>(Wg + T::kWeightElems);
  float* const offset = scale + CZ;
  float* const gate_b = offset + CZ;
  float* const out_b = gate_b + CZ;
  // Per warp two stages, each its pair rows [16][kStrideZ] then its t rows [16][kStrideC].
  uint16_t* const stages = reinterpret_cast<uint16_t*>(out_b + CZ);

  const int tid = threadIdx.x, warp = tid >> 5, lane = tid & 31, g = lane >> 2, t = lane & 3;
  const uint16_t* const gw = static_cast<const uint16_t*>(p.gating_w);
  const uint16_t* const ow = static_cast<const uint16_t*>(p.output_w);
  for (int e = tid; e < CZ * CZ / 8; e += kThreads) {
    const int r = e / (CZ / 8), c8 = (e % (CZ / 8)) * 8;
    cp_async_16(Wg + weight_offset<kWgmma>(r, c8, T::kStrideZ, CZ), gw + r * CZ + c8, true);
  }
  for (int e = tid; e < C * CZ / 8; e += kThreads) {
    const int r = e / (CZ / 8), c8 = (e % (CZ / 8)) * 8;
    cp_async_16(Wo + weight_offset<kWgmma>(r, c8, T::kStrideZ, CZ), ow + r * CZ + c8, true);
  }
  cp_async_commit();
  for (int e = tid; e < CZ; e += kThreads) {
    scale[e] = p.ln_scale[e];
    offset[e] = p.ln_offset[e];
    gate_b[e] = p.gating_b[e];
    out_b[e] = p.output_b[e];
  }
  weights_arrived<kWgmma>();  // weights and parameters are in; from here on the warps (warpgroups) run on their own

  uint16_t* const pair = static_cast<uint16_t*>(p.pair);
  const uint16_t* const tin = static_cast<const uint16_t*>(p.t);
  const RowTiles<T::kGroupWarps> tiles(p.rows, warp, kWarps);
  // A warp's rows of a tile, pair and t, into one of its stages (zeros past the last row), one commit group each.
  auto load_tile = [&](int64_t tile, int stage) {
    uint16_t* const Ps = stages + (warp * 2 + stage) * T::kStageElems;
    const int64_t row0 = tiles.first_row(tile);
    load_rows_async<CZ>(Ps, T::kStrideZ, pair, p.pair_ld, row0, p.rows, lane);
    load_rows_async<C>(Ps + kWarpRows * T::kStrideZ, T::kStrideC, tin, p.t_ld, row0, p.rows, lane);
    cp_async_commit();
  };
  warp_tile_pipeline(tiles.first, tiles.count, tiles.step, load_tile, [&](int64_t tile, int stage) {
    uint16_t* const Ps = stages + (warp * 2 + stage) * T::kStageElems;
    const uint16_t* const Ts = Ps + kWarpRows * T::kStrideZ;
    const int64_t row0 = tiles.first_row(tile);

    // LayerNorm of rows g and g + 8: each quad lane reads only the columns of its A fragments, and so do its
    // epilogue writes below (no lane reads an element another lane rewrites).
    uint32_t xa[CZ / 16][4];
    layer_norm_fragments<CZ>(Ps, T::kStrideZ, g, g + 8, t, scale, offset, p.eps, xa);
    uint32_t ta[C / 16][4];
#pragma unroll
    for (int ks = 0; ks < C / 16; ++ks)
      ldmatrix_x4(ta[ks], Ts + fragment_row(lane) * T::kStrideC + ks * 16 + fragment_col(lane));

#pragma unroll
    for (int h = 0; h < CZ / T::kHalf; ++h) {
      // The accumulators start from the biases.
      float ga[T::kNb][4], ua[T::kNb][4];
#pragma unroll
      for (int nb = 0; nb < T::kNb; ++nb) {
        const float2 b1 = *reinterpret_cast<const float2*>(gate_b + h * T::kHalf + nb * 8 + 2 * t);
        const float2 b2 = *reinterpret_cast<const float2*>(out_b + h * T::kHalf + nb * 8 + 2 * t);
        ga[nb][0] = ga[nb][2] = b1.x, ga[nb][1] = ga[nb][3] = b1.y;
        ua[nb][0] = ua[nb][2] = b2.x, ua[nb][1] = ua[nb][3] = b2.y;
      }
      if constexpr (kWgmma) {
#if defined(AXF_WGMMA)
        static_assert(T::kHalf == 64, "one m64n64 product per pass");
        constexpr uint32_t kGroup = CZ * 16;  // bytes between core matrices along k
        const uint32_t column = h * T::kHalf / 8 * 128;  // this pass's first core matrix along n
        const uint32_t g_addr = smem_addr(Wg) + column, o_addr = smem_addr(Wo) + column;
        wgmma_fence();
#pragma unroll
        for (int ks = 0; ks < CZ / 16; ++ks)
          wgmma_m64n64k16_mnmajor(ga, xa[ks], wgmma_desc(g_addr + 2 * ks * kGroup, kGroup, 128), 1);
#pragma unroll
        for (int ks = 0; ks < C / 16; ++ks)
          wgmma_m64n64k16_mnmajor(ua, ta[ks], wgmma_desc(o_addr + 2 * ks * kGroup, kGroup, 128), 1);
        wgmma_commit();
        wgmma_wait<0>();
        wgmma_fence_operands(ga);
        wgmma_fence_operands(ua);
#endif
      } else {
        accumulate_product<CZ / 16, T::kNb>(ga, xa, Wg + h * T::kHalf, T::kStrideZ, lane);
        accumulate_product<C / 16, T::kNb>(ua, ta, Wo + h * T::kHalf, T::kStrideZ, lane);
      }
      // pair += sigmoid(gate) * update for this thread's elements (rows g, g + 8; columns col, col + 1), in place.
#pragma unroll
      for (int nb = 0; nb < T::kNb; ++nb)
#pragma unroll
        for (int hr = 0; hr < 2; ++hr) {
          const int col = h * T::kHalf + nb * 8 + 2 * t;
          uint32_t* const dst = reinterpret_cast<uint32_t*>(Ps + (g + 8 * hr) * T::kStrideZ + col);
          const uint32_t old = *dst;
          float y[2];
#pragma unroll
          for (int e = 0; e < 2; ++e) {
            const float gate = fast_sigmoid(ga[nb][2 * hr + e]);
            y[e] = (e ? bf16_hi(old) : bf16_lo(old)) + gate * ua[nb][2 * hr + e];
          }
          *dst = pack_bf16x2(y[0], y[1]);
        }
    }
    __syncwarp();
    for (int e = lane; e < kWarpRows * CZ / 8; e += 32) {
      const int r = e / (CZ / 8), c8 = (e % (CZ / 8)) * 8;
      if (row0 + r < p.rows)
        *reinterpret_cast<uint4*>(pair + (row0 + r) * p.pair_ld + c8) =
            *reinterpret_cast<const uint4*>(Ps + r * T::kStrideZ + c8);
    }
  });
}

template <int CZ, int C, bool kWgmma>
void launch_form(const TriangleGatedOutputParams& p, cudaStream_t stream) {
  using T = GatedOutputTile<CZ, C, kWgmma>;
  auto kernel = triangle_gated_output_kernel<CZ, C, kWgmma>;
  const int64_t resident = resident_blocks(kernel, kThreads, T::kSmemBytes);
  const int64_t tiles = (p.rows + kWarps * kWarpRows - 1) / (kWarps * kWarpRows);  // of all warps' rows
  const int64_t blocks = std::min<int64_t>(tiles, resident);
  kernel<<<static_cast<unsigned>(blocks), kThreads, T::kSmemBytes, stream>>>(p);
  AXF_CUDA_CHECK_LAUNCH("triangle_gated_output_kernel");
}

template <int CZ, int C>
void launch_widths(const TriangleGatedOutputParams& p, cudaStream_t stream) {
  if (sm90a_kernels_usable()) {
    launch_form<CZ, C, true>(p, stream);
  } else {
    launch_form<CZ, C, false>(p, stream);
  }
}

}  // namespace

bool triangle_gated_output_fits(const TriangleGatedOutputParams& p) {
  return triangle_gated_output_supported(p.cz, p.c) && aligned(p.pair, 16) && aligned(p.t, 16) &&
         aligned(p.gating_w, 16) && aligned(p.output_w, 16) && (p.rows <= 1 || (p.pair_ld % 8 == 0 && p.t_ld % 8 == 0));
}

void launch_triangle_gated_output(const TriangleGatedOutputParams& p, cudaStream_t stream) {
  AXF_CHECK(triangle_gated_output_fits(p), "triangle_gated_output: unsupported widths c_z=", p.cz, ", c=", p.c,
            " or unaligned rows");
  if (p.rows == 0) return;
  if (p.cz == 128) {
    launch_widths<128, 128>(p, stream);
  } else {
    launch_widths<64, 64>(p, stream);
  }
}

}  // namespace axf::kernels
