#include "kernels/pair_bias.cuh"

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
constexpr int kWarpRows = 16;  // flattened pair rows per warp tile (the m of one mma)
constexpr int kHeads = 8;      // heads per product (the n of one mma), zero-padded past H

template <int CZ>
struct PairBiasTile {
  static constexpr int kStrideZ = CZ + 8;         // bf16 per shared pair row (16 bytes of padding: conflict-free)
  static constexpr int kStrideO = kWarpRows + 8;  // bf16 per shared head of results (48 bytes: 16-byte pieces)
  // w as [CZ][8] bf16: 16-byte rows, so the 8 rows of each ldmatrix block fill 128 bytes without a bank conflict.
  static constexpr size_t kWeightBytes = size_t{CZ} * kHeads * 2;
  static constexpr size_t kParamBytes = 2 * size_t{CZ} * sizeof(float);
  static constexpr size_t kRowBytes = size_t{kWarps} * 2 * kWarpRows * kStrideZ * 2;  // two stages per warp
  static constexpr size_t kOutBytes = size_t{kWarps} * kHeads * kStrideO * 2;
  static constexpr size_t kSmemBytes = kWeightBytes + kParamBytes + kRowBytes + kOutBytes;
  static_assert((kWeightBytes + kParamBytes) % 16 == 0, "the pair rows must start 16-byte aligned");
  static_assert(kRowBytes % 16 == 0 && (kStrideO * 2) % 16 == 0, "the results must be 16-byte pieces");
};

// The (r, j) coordinates of a tile's first row n0 = r L + j, and the step between a warp's tiles in the same form,
// so that the warps walk their tiles without a division per tile.
struct Coords {
  int64_t r = 0, j = 0;
};
__device__ __forceinline__ Coords advance(Coords c, const Coords& step, int64_t L) {
  c.r += step.r;
  c.j += step.j;
  if (c.j >= L) {
    c.j -= L;
    ++c.r;
  }
  return c;
}

// Element offset of the tile row n0 + k (k < 16) in a grid (PairGrid), from n0's coordinates c.
__device__ __forceinline__ int64_t grid_offset(const PairGrid& v, int64_t n0, const Coords& c, int k, int64_t L) {
  if (v.flat) return (n0 + k) * v.sj;
  int64_t r = c.r, j = c.j + k;
  while (j >= L) {
    j -= L;
    ++r;
  }
  return r * v.sr + j * v.sj;
}

__device__ __forceinline__ bool aligned16(const void* p) { return (reinterpret_cast<uintptr_t>(p) & 15) == 0; }

// Each warp walks its own tiles of 16 flattened rows (blockIdx.x * kWarps + warp, then every gridDim.x * kWarps-th)
// with its own two stages: the next tile's rows load by cp.async while this one is normalised, multiplied and
// written, and no block barrier follows the weights. Two blocks per SM (16 warps, each with a tile in flight): at
// most 128 registers, which ptxas meets without spilling (the 80 of three blocks would spill).
template <int CZ>
__global__ void __launch_bounds__(kThreads, 2) pair_bias_kernel(const PairBiasParams p) {
  using T = PairBiasTile<CZ>;
  extern __shared__ float4 smem_f4[];
  uint16_t* const Ws = reinterpret_cast<uint16_t*>(smem_f4);  // [CZ][kHeads], zero columns from H
  float* const scale = reinterpret_cast<float*>(Ws + CZ * kHeads);
  float* const offset = scale + CZ;
  uint16_t* const Zs = reinterpret_cast<uint16_t*>(offset + CZ);  // [warp][stage][16][kStrideZ]
  uint16_t* const Os = Zs + kWarps * 2 * kWarpRows * T::kStrideZ;  // [warp][kHeads][kStrideO]

  const int tid = threadIdx.x, warp = tid >> 5, lane = tid & 31, g = lane >> 2, t = lane & 3;
  const int H = static_cast<int>(p.heads);
  const uint16_t* const w = static_cast<const uint16_t*>(p.w);
  for (int e = tid; e < CZ * kHeads; e += kThreads) {
    const int c = e / kHeads, h = e % kHeads;
    Ws[e] = h < H ? w[c * p.w_ld + h] : uint16_t{0};
  }
  const bool normalise = p.ln_scale != nullptr;
  if (normalise) {
    for (int e = tid; e < CZ; e += kThreads) {
      scale[e] = p.ln_scale[e];
      offset[e] = p.ln_offset[e];
    }
  }
  __syncthreads();  // the weights and parameters are in; from here on the warps run independently

  const uint16_t* const pair = static_cast<const uint16_t*>(p.pair);
  uint16_t* const out = static_cast<uint16_t*>(p.out);
  uint16_t* const normed = static_cast<uint16_t*>(p.normed);
  const int64_t L = p.L, N = p.rows * L;
  const int64_t n_tiles = (N + kWarpRows - 1) / kWarpRows, step = int64_t{gridDim.x} * kWarps;
  const Coords step_rj{step * kWarpRows / L, step * kWarpRows % L};
  uint16_t* const Ow = Os + warp * kHeads * T::kStrideO;  // this warp's results, head-major
  // The pipeline loads and runs this warp's tiles in order, so each side keeps the (r, j) of its next tile's first
  // row and advances it by the warp's step (no division per tile).
  const int64_t first = int64_t{blockIdx.x} * kWarps + warp;
  const Coords first_rj{first * kWarpRows / L, first * kWarpRows % L};
  Coords load_rj = first_rj, cur = first_rj;
  // A warp tile's rows into one of this warp's stages (zeros past the last row).
  auto load_tile = [&](int64_t tile, int stage) {
    const int64_t n0 = tile * kWarpRows;
    uint16_t* const Z = Zs + (warp * 2 + stage) * kWarpRows * T::kStrideZ;
#pragma unroll
    for (int e = lane; e < kWarpRows * CZ / 8; e += 32) {
      const int r = e / (CZ / 8), c8 = (e % (CZ / 8)) * 8;
      const bool ok = n0 + r < N;
      cp_async_16(Z + r * T::kStrideZ + c8, ok ? pair + grid_offset(p.pair_grid, n0, load_rj, r, L) + c8 : pair, ok);
    }
    cp_async_commit();
    load_rj = advance(load_rj, step_rj, L);
  };

  warp_tile_pipeline(first, n_tiles, step, load_tile, [&](int64_t tile, int stage) {
    uint16_t* const Z = Zs + (warp * 2 + stage) * kWarpRows * T::kStrideZ;
    const int64_t n0 = tile * kWarpRows;

    // The A fragments: the normalised rows g and g + 8 (each lane reads only its own fragments' elements, so it
    // may put the normalised values back in their place for the normed copy), or the rows as they are.
    uint32_t xa[CZ / 16][4];
    if (normalise) {
      layer_norm_fragments<CZ>(Z, T::kStrideZ, g, g + 8, t, scale, offset, p.eps, xa);
      if (normed != nullptr) {
#pragma unroll
        for (int ks = 0; ks < CZ / 16; ++ks)
#pragma unroll
          for (int reg = 0; reg < 4; ++reg)
            *reinterpret_cast<uint32_t*>(Z + (g + 8 * (reg & 1)) * T::kStrideZ + ks * 16 + (reg >> 1) * 8 + 2 * t) =
                xa[ks][reg];
      }
    } else {
#pragma unroll
      for (int ks = 0; ks < CZ / 16; ++ks)
        ldmatrix_x4(xa[ks], Z + fragment_row(lane) * T::kStrideZ + ks * 16 + fragment_col(lane));
    }

    // One n-block: acc = rows g, g + 8 for heads 2t, 2t + 1; into Ow[head][row], rounded once.
    float acc[1][4] = {{0.f, 0.f, 0.f, 0.f}};
    accumulate_product<CZ / 16, 1>(acc, xa, Ws, kHeads, lane);
#pragma unroll
    for (int hr = 0; hr < 2; ++hr)
#pragma unroll
      for (int e = 0; e < 2; ++e)
        Ow[(2 * t + e) * T::kStrideO + g + 8 * hr] = __bfloat16_as_ushort(__float2bfloat16_rn(acc[0][2 * hr + e]));
    __syncwarp();  // Ow (and the normalised rows in Z) are complete

    // Head h's 16 results by lanes 2h and 2h + 1, 8 each: one 16-byte piece where the head's run along n is dense
    // and aligned, else element by element.
    if (lane < 2 * H) {
      const int h = lane >> 1, k0 = (lane & 1) * 8;
      const uint16_t* const src = Ow + h * T::kStrideO + k0;
      uint16_t* const head = out + h * p.out_sh;
      if (p.out_grid.flat && p.out_grid.sj == 1 && n0 + kWarpRows <= N && aligned16(head + n0 + k0)) {
        *reinterpret_cast<uint4*>(head + n0 + k0) = *reinterpret_cast<const uint4*>(src);
      } else {
#pragma unroll
        for (int i = 0; i < 8; ++i)
          if (n0 + k0 + i < N) head[grid_offset(p.out_grid, n0, cur, k0 + i, L)] = src[i];
      }
    }
    // The normalised rows (or the rows themselves) to normed, 16-byte pieces.
    if (normed != nullptr) {
#pragma unroll
      for (int e = lane; e < kWarpRows * CZ / 8; e += 32) {
        const int r = e / (CZ / 8), c8 = (e % (CZ / 8)) * 8;
        if (n0 + r < N)
          *reinterpret_cast<uint4*>(normed + grid_offset(p.normed_grid, n0, cur, r, L) + c8) =
              *reinterpret_cast<const uint4*>(Z + r * T::kStrideZ + c8);
      }
    }
    cur = advance(cur, step_rj, L);
  });
}

template <int CZ>
void launch_width(const PairBiasParams& p, cudaStream_t stream) {
  using T = PairBiasTile<CZ>;
  auto kernel = pair_bias_kernel<CZ>;
  const int64_t resident = resident_blocks(kernel, kThreads, T::kSmemBytes);
  const int64_t tiles = (p.rows * p.L + kWarps * kWarpRows - 1) / (kWarps * kWarpRows);  // of all warps' rows
  const int64_t blocks = std::min<int64_t>(tiles, resident);
  kernel<<<static_cast<unsigned>(blocks), kThreads, T::kSmemBytes, stream>>>(p);
  AXF_CUDA_CHECK_LAUNCH("pair_bias_kernel");
}

// Rows of a grid that cp.async and the 16-byte stores can move whole: an aligned base and strides of whole pieces.
bool rows_fit(const void* base, const PairGrid& v) {
  return aligned(base, 16) && v.sj % kPacket == 0 && (v.flat || v.sr % kPacket == 0);
}

}  // namespace

bool pair_bias_fits(const PairBiasParams& p) {
  return pair_bias_supported(p.cz, p.heads) && p.pair != nullptr && p.w != nullptr && p.w_ld >= p.heads &&
         p.out != nullptr && (p.ln_scale == nullptr) == (p.ln_offset == nullptr) && rows_fit(p.pair, p.pair_grid) &&
         (p.normed == nullptr || rows_fit(p.normed, p.normed_grid));
}

void launch_pair_bias(const PairBiasParams& p, cudaStream_t stream) {
  AXF_CHECK(pair_bias_fits(p), "pair_bias: unsupported widths c_z=", p.cz, ", H=", p.heads, " or unaligned rows");
  if (p.rows == 0 || p.L == 0) return;
  if (p.cz == 128) {
    launch_width<128>(p, stream);
  } else {
    launch_width<64>(p, stream);
  }
}

}  // namespace axf::kernels
