#include "kernels/triangle_projection.cuh"

#include <cuda_bf16.h>

#include <algorithm>

#include "backend/cuda/cuda_check.h"
#include "kernels/mma_sm80.cuh"
#include "kernels/row_fragments.cuh"
#include "kernels/rows.cuh"

namespace axf::kernels {

namespace {

constexpr int kWarps = 8;
constexpr int kThreads = 32 * kWarps;
constexpr int kSlabs = 2;                   // 16-row slabs per warp tile: each weight fragment serves both
constexpr int kWarpRows = 16 * kSlabs;      // pair rows per warp tile
constexpr int kGroup = 32;                  // output channels per pass over the products
constexpr int kGroupStride = kWarpRows + 8;  // bf16 per channel of a pass's gated tile (16-byte pieces aligned)

template <int CZ, int CB>
struct ProjectionTile {
  static constexpr int kStrideZ = CZ + 8;  // bf16 per shared pair row (16 bytes of padding: conflict-free)
  static constexpr int kStrideW = CB + 8;  // bf16 per shared weight row
  static constexpr size_t kWeightBytes = 2 * size_t{CZ} * kStrideW * 2;  // projection and gate
  static constexpr size_t kParamBytes = (2 * CZ + 2 * CB + 2 * kWarps * kWarpRows) * sizeof(float);
  static constexpr size_t kStageElems = size_t{kWarpRows} * kStrideZ;
  static constexpr size_t kSmemBytes = kWeightBytes + kParamBytes + 2 * kWarps * kStageElems * 2;
  static constexpr int kNb = kGroup / 8;  // n-blocks per pass
  static_assert(kParamBytes % 16 == 0, "the pair rows must start 16-byte aligned");
  static_assert(size_t{kGroup} * kGroupStride <= kStageElems, "a pass's gated tile must fit a stage");
  static_assert(CB % kGroup == 0, "whole passes");
};

// blockIdx.y: the side (0 left, 1 right). Each warp walks its own tiles of 32 rows (blockIdx.x * kWarps + warp, then
// every gridDim.x * kWarps-th), with its own two stages: no block barrier after the weights are in, so one warp's
// products overlap another's loads and epilogue. Once normalised into registers, a tile's stage holds its gated
// output, a pass of 32 channels at a time. vec_out: every channel's run of outputs starts 16-byte aligned
// (row_begin L and L^2 multiples of 8, aligned bases).
template <int CZ, int CB>
__global__ void __launch_bounds__(kThreads, 1) triangle_projection_kernel(const TriangleProjectionParams p,
                                                                          bool vec_out) {
  using T = ProjectionTile<CZ, CB>;
  extern __shared__ float4 smem_f4[];
  uint16_t* const Wp = reinterpret_cast<uint16_t*>(smem_f4);  // [CZ][kStrideW] projection weights of this side
  uint16_t* const Wg = Wp + CZ * T::kStrideW;                  // [CZ][kStrideW] gate weights
  float* const scale = reinterpret_cast<float*>(Wg + CZ * T::kStrideW);
  float* const offset = scale + CZ;
  float* const bp = offset + CZ;
  float* const bg = bp + CB;
  float* const masks = bg + CB;  // [warp][stage][kWarpRows]
  uint16_t* const Zs = reinterpret_cast<uint16_t*>(masks + 2 * kWarps * kWarpRows);  // [warp][stage] pair rows

  const int side = blockIdx.y;
  const int tid = threadIdx.x, warp = tid >> 5, lane = tid & 31, g = lane >> 2, t = lane & 3;
  const uint16_t* const w = static_cast<const uint16_t*>(p.w);
  for (int e = tid; e < CZ * CB / 8; e += kThreads) {
    const int r = e / (CB / 8), c8 = (e % (CB / 8)) * 8;
    cp_async_16(Wp + r * T::kStrideW + c8, w + r * 4 * CB + side * CB + c8, true);
    cp_async_16(Wg + r * T::kStrideW + c8, w + r * 4 * CB + (2 + side) * CB + c8, true);
  }
  cp_async_commit();
  for (int e = tid; e < CZ; e += kThreads) {
    scale[e] = p.ln_scale[e];
    offset[e] = p.ln_offset[e];
  }
  for (int e = tid; e < CB; e += kThreads) {
    bp[e] = p.b[side * CB + e];
    bg[e] = p.b[(2 + side) * CB + e];
  }
  cp_async_wait<0>();
  __syncthreads();  // the weights and parameters are in; from here on the warps run independently

  const uint16_t* const pair = static_cast<const uint16_t*>(p.pair);
  const int64_t N = p.rows * p.L, plane = p.L * p.L;
  const int64_t n_tiles = (N + kWarpRows - 1) / kWarpRows, step = int64_t{gridDim.x} * kWarps;
  uint16_t* const out = static_cast<uint16_t*>(side ? p.right : p.left) + p.row_begin * p.L;  // channel c: + c L^2
  // A warp tile's rows and mask values into one of this warp's stages (zeros past the last row).
  auto load_tile = [&](int64_t tile, int stage) {
    const int64_t n0 = tile * kWarpRows;
    uint16_t* const Z = Zs + (warp * 2 + stage) * T::kStageElems;
#pragma unroll
    for (int e = lane; e < kWarpRows * CZ / 8; e += 32) {
      const int r = e / (CZ / 8), c8 = (e % (CZ / 8)) * 8;
      const bool ok = n0 + r < N;
      cp_async_16(Z + r * T::kStrideZ + c8, ok ? pair + (n0 + r) * p.pair_ld + c8 : pair, ok);
    }
    const bool ok = n0 + lane < N;
    cp_async_4(masks + (warp * 2 + stage) * kWarpRows + lane, ok ? p.mask + n0 + lane : p.mask, ok);
    cp_async_commit();
  };

  warp_tile_pipeline(int64_t{blockIdx.x} * kWarps + warp, n_tiles, step, load_tile, [&](int64_t tile, int stage) {
    uint16_t* const Z = Zs + (warp * 2 + stage) * T::kStageElems;
    const float* const mk = masks + (warp * 2 + stage) * kWarpRows;
    float mask_of[kSlabs][2];
    uint32_t xa[kSlabs][CZ / 16][4];
#pragma unroll
    for (int sl = 0; sl < kSlabs; ++sl) {
      mask_of[sl][0] = mk[16 * sl + g];
      mask_of[sl][1] = mk[16 * sl + g + 8];
      layer_norm_fragments<CZ>(Z, T::kStrideZ, 16 * sl + g, 16 * sl + g + 8, t, scale, offset, p.eps, xa[sl]);
    }
    __syncwarp();  // the rows are in registers: the stage now holds the gated output [kGroup][kGroupStride]
    uint16_t* const Og = Z;
    const int64_t n0 = tile * kWarpRows;
    const bool full = vec_out && n0 + kWarpRows <= N;
#pragma unroll 1
    for (int c0 = 0; c0 < CB; c0 += kGroup) {
      // The accumulators start from the biases.
      float ap[kSlabs][T::kNb][4], ag[kSlabs][T::kNb][4];
#pragma unroll
      for (int nb = 0; nb < T::kNb; ++nb) {
        const float2 b1 = *reinterpret_cast<const float2*>(bp + c0 + nb * 8 + 2 * t);
        const float2 b2 = *reinterpret_cast<const float2*>(bg + c0 + nb * 8 + 2 * t);
#pragma unroll
        for (int sl = 0; sl < kSlabs; ++sl) {
          ap[sl][nb][0] = ap[sl][nb][2] = b1.x, ap[sl][nb][1] = ap[sl][nb][3] = b1.y;
          ag[sl][nb][0] = ag[sl][nb][2] = b2.x, ag[sl][nb][1] = ag[sl][nb][3] = b2.y;
        }
      }
      accumulate_slabs<kSlabs, CZ / 16, T::kNb>(ap, xa, Wp + c0, T::kStrideW, lane);
      accumulate_slabs<kSlabs, CZ / 16, T::kNb>(ag, xa, Wg + c0, T::kStrideW, lane);
      // Og[c - c0][row] = mask * projection * sigmoid(gate), rounded once.
#pragma unroll
      for (int sl = 0; sl < kSlabs; ++sl)
#pragma unroll
        for (int nb = 0; nb < T::kNb; ++nb)
#pragma unroll
          for (int hr = 0; hr < 2; ++hr)
#pragma unroll
            for (int e = 0; e < 2; ++e) {
              const float y = mask_of[sl][hr] * ap[sl][nb][2 * hr + e] * fast_sigmoid(ag[sl][nb][2 * hr + e]);
              Og[(nb * 8 + 2 * t + e) * kGroupStride + 16 * sl + g + 8 * hr] =
                  __bfloat16_as_ushort(__float2bfloat16_rn(y));
            }
      __syncwarp();
      // The pass's channels out: 16-byte pieces (four lanes per channel's 32 rows), else element by element.
      if (full) {
#pragma unroll
        for (int i = 0; i < kGroup / 8; ++i) {
          const int c = i * 8 + (lane >> 2), r8 = (lane & 3) * 8;
          *reinterpret_cast<uint4*>(out + (c0 + c) * plane + n0 + r8) =
              *reinterpret_cast<const uint4*>(Og + c * kGroupStride + r8);
        }
      } else {
        for (int e = lane; e < kGroup * kWarpRows; e += 32) {
          const int c = e / kWarpRows, r = e % kWarpRows;
          if (n0 + r < N) out[(c0 + c) * plane + n0 + r] = Og[c * kGroupStride + r];
        }
      }
      __syncwarp();  // Og is read: free for the next pass
    }
  });
}

template <int CZ, int CB>
void launch_widths(const TriangleProjectionParams& p, cudaStream_t stream) {
  using T = ProjectionTile<CZ, CB>;
  auto kernel = triangle_projection_kernel<CZ, CB>;
  const int64_t resident = resident_blocks(kernel, kThreads, T::kSmemBytes);
  const int64_t tiles = (p.rows * p.L + kWarps * kWarpRows - 1) / (kWarps * kWarpRows);  // of all warps' rows
  // Half of the resident blocks per side (both sides read every tile of rows).
  const int64_t per_side = std::min<int64_t>(tiles, std::max<int64_t>(1, resident / 2));
  const bool vec_out = aligned(p.left, 16) && aligned(p.right, 16) && (p.row_begin * p.L) % 8 == 0 &&
                       (p.L * p.L) % 8 == 0;
  kernel<<<dim3(static_cast<unsigned>(per_side), 2), kThreads, T::kSmemBytes, stream>>>(p, vec_out);
  AXF_CUDA_CHECK_LAUNCH("triangle_projection_kernel");
}

}  // namespace

bool triangle_projection_fits(const TriangleProjectionParams& p) {
  return triangle_projection_supported(p.cz, p.cb) && aligned(p.pair, 16) && aligned(p.w, 16) && p.mask != nullptr &&
         (p.rows * p.L <= 1 || p.pair_ld % 8 == 0);
}

void launch_triangle_projection(const TriangleProjectionParams& p, cudaStream_t stream) {
  AXF_CHECK(triangle_projection_fits(p), "triangle_projection: unsupported widths c_z=", p.cz, ", cb=", p.cb,
            " or unaligned rows");
  if (p.rows == 0 || p.L == 0) return;
  if (p.cz == 128) {
    launch_widths<128, 128>(p, stream);
  } else {
    launch_widths<64, 64>(p, stream);
  }
}

}  // namespace axf::kernels
