#include "kernels/masked_projections.cuh"

#include <algorithm>

#include "backend/cuda/cuda_check.h"
#include "kernels/mma_sm80.cuh"
#include "kernels/row_fragments.cuh"
#include "kernels/rows.cuh"

namespace axf::kernels {

namespace {

constexpr int kWarps = 8;
constexpr int kThreads = 32 * kWarps;
constexpr int kWarpRows = 16;  // rows per warp tile (the m of one mma)
constexpr int kSide = 32;      // outputs per row of each side (masked_projections_supported)
constexpr int kOut = 2 * kSide;  // outputs per row: left's, then right's

template <int C>
struct ProjectionRowsTile {
  static constexpr int kStrideC = C + 8;     // bf16 per shared row (16 bytes of padding: conflict-free ldmatrix)
  static constexpr int kStrideW = kOut + 8;  // bf16 per shared weight row
  static constexpr size_t kWeightElems = static_cast<size_t>(C) * kStrideW;
  static constexpr size_t kParamFloats = 2 * C + kOut;  // scale, offset, biases
  static constexpr size_t kStageElems = static_cast<size_t>(kWarpRows) * kStrideC;
  static constexpr size_t kSmemBytes = kWeightElems * 2 + kParamFloats * sizeof(float) + 2 * kWarps * kStageElems * 2;
  static constexpr int kMinBlocks = kSmemBytes * 2 <= 227 * 1024 ? 2 : 1;
  static_assert((kWeightElems * 2 + kParamFloats * sizeof(float)) % 16 == 0, "16-byte aligned stages");
};

template <int C>
__global__ void __launch_bounds__(kThreads, ProjectionRowsTile<C>::kMinBlocks)
    masked_projections_kernel(const MaskedProjectionParams p) {
  using T = ProjectionRowsTile<C>;
  extern __shared__ float4 smem_f4[];
  uint16_t* const W = reinterpret_cast<uint16_t*>(smem_f4);  // [C][kStrideW]: w_left | w_right
  float* const scale = reinterpret_cast<float*>(W + T::kWeightElems);
  float* const offset = scale + C;
  float* const bias = offset + C;  // [kOut]
  uint16_t* const stages = reinterpret_cast<uint16_t*>(bias + kOut);  // per warp two stages of [16][kStrideC]

  const int tid = threadIdx.x, warp = tid >> 5, lane = tid & 31, g = lane >> 2, t = lane & 3;
  const uint16_t* const wl = static_cast<const uint16_t*>(p.w_left);
  const uint16_t* const wr = static_cast<const uint16_t*>(p.w_right);
  for (int e = tid; e < C * kOut / 8; e += kThreads) {
    const int r = e / (kOut / 8), c8 = (e % (kOut / 8)) * 8;
    cp_async_16(W + r * T::kStrideW + c8, c8 < kSide ? wl + r * kSide + c8 : wr + r * kSide + c8 - kSide,
                true);
  }
  cp_async_commit();
  for (int e = tid; e < C; e += kThreads) {
    scale[e] = p.ln_scale[e];
    offset[e] = p.ln_offset[e];
  }
  for (int e = tid; e < kOut; e += kThreads) bias[e] = e < kSide ? p.b_left[e] : p.b_right[e - kSide];
  weights_arrived<false>();  // weights and parameters are in; from here on the warps run on their own

  const uint16_t* const msa = static_cast<const uint16_t*>(p.msa);
  const RowTiles<1> tiles(p.rows, warp, kWarps);
  auto load_tile = [&](int64_t tile, int stage) {
    load_rows_async<C>(stages + (warp * 2 + stage) * T::kStageElems, T::kStrideC, msa, p.msa_ld,
                       tiles.first_row(tile), p.rows, lane);
    cp_async_commit();
  };
  warp_tile_pipeline(tiles.first, tiles.count, tiles.step, load_tile, [&](int64_t tile, int stage) {
    uint16_t* const Xs = stages + (warp * 2 + stage) * T::kStageElems;
    const int64_t row0 = tiles.first_row(tile);
    float m[2];
#pragma unroll
    for (int hr = 0; hr < 2; ++hr) {
      const int64_t row = row0 + g + 8 * hr;
      m[hr] = row < p.rows ? __ldg(p.mask + row * p.mask_ld) : 0.f;
    }
    uint32_t xa[C / 16][4];
    layer_norm_fragments<C>(Xs, T::kStrideC, g, g + 8, t, scale, offset, p.eps, xa);
    float acc[kOut / 8][4];
#pragma unroll
    for (int nb = 0; nb < kOut / 8; ++nb) {
      const float2 b = *reinterpret_cast<const float2*>(bias + nb * 8 + 2 * t);
      acc[nb][0] = acc[nb][2] = b.x, acc[nb][1] = acc[nb][3] = b.y;
    }
    accumulate_product<C / 16, kOut / 8>(acc, xa, W, T::kStrideW, lane);
    // The masked, rounded outputs into the stage's first kOut columns (every lane has read its rows: LayerNorm above
    // reads only a lane's own fragment columns, but the stage is shared by the warp's lanes, so wait for all).
    __syncwarp();
#pragma unroll
    for (int nb = 0; nb < kOut / 8; ++nb)
#pragma unroll
      for (int hr = 0; hr < 2; ++hr)
        *reinterpret_cast<uint32_t*>(Xs + (g + 8 * hr) * T::kStrideC + nb * 8 + 2 * t) =
            pack_bf16x2(m[hr] * acc[nb][2 * hr], m[hr] * acc[nb][2 * hr + 1]);
    __syncwarp();
    uint16_t* const left = static_cast<uint16_t*>(p.left);
    uint16_t* const right = static_cast<uint16_t*>(p.right);
    for (int e = lane; e < kWarpRows * kOut / 8; e += 32) {
      const int r = e / (kOut / 8), c8 = (e % (kOut / 8)) * 8;
      const int64_t row = row0 + r;
      if (row >= p.rows) continue;
      uint16_t* const dst = c8 < kSide ? left + row * p.left_ld + c8 : right + row * p.right_ld + c8 - kSide;
      *reinterpret_cast<uint4*>(dst) = *reinterpret_cast<const uint4*>(Xs + r * T::kStrideC + c8);
    }
  });
}

template <int C>
void launch_width(const MaskedProjectionParams& p, cudaStream_t stream) {
  using T = ProjectionRowsTile<C>;
  auto kernel = masked_projections_kernel<C>;
  const int64_t resident = resident_blocks(kernel, kThreads, T::kSmemBytes);
  const int64_t tiles = (p.rows + kWarps * kWarpRows - 1) / (kWarps * kWarpRows);  // of all warps' rows
  const int64_t blocks = std::min<int64_t>(tiles, resident);
  kernel<<<static_cast<unsigned>(blocks), kThreads, T::kSmemBytes, stream>>>(p);
  AXF_CUDA_CHECK_LAUNCH("masked_projections_kernel");
}

}  // namespace

bool masked_projections_fit(const MaskedProjectionParams& p) {
  return masked_projections_supported(p.c, p.a, p.b) && aligned(p.msa, 16) && aligned(p.w_left, 16) &&
         aligned(p.w_right, 16) && aligned(p.left, 16) && aligned(p.right, 16) &&
         (p.rows <= 1 || (p.msa_ld % 8 == 0 && p.left_ld % 8 == 0 && p.right_ld % 8 == 0));
}

void launch_masked_projections(const MaskedProjectionParams& p, cudaStream_t stream) {
  AXF_CHECK(masked_projections_fit(p), "masked_projections: unsupported widths c=", p.c, ", a=", p.a, ", b=", p.b,
            " or unaligned rows");
  if (p.rows == 0) return;
  if (p.c == 256) {
    launch_width<256>(p, stream);
  } else {
    launch_width<64>(p, stream);
  }
}

}  // namespace axf::kernels
