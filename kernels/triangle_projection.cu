#include "kernels/triangle_projection.cuh"

#include <cuda_bf16.h>

#include <algorithm>

#include "backend/cuda/cuda_check.h"
#include "kernels/mma_sm80.cuh"
#include "kernels/row_fragments.cuh"
#include "kernels/rows.cuh"

namespace axf::kernels {

namespace {

constexpr int kTileRows = 128;  // pair rows per tile: 8 warps of 16
constexpr int kThreads = 256;

template <int CZ, int CB>
struct ProjectionTile {
  static constexpr int kStrideZ = CZ + 8;         // bf16 per shared pair row (16 bytes of padding: conflict-free)
  static constexpr int kStrideW = CB + 8;         // bf16 per shared weight row
  static constexpr int kStrideO = kTileRows + 8;  // bf16 per shared output channel (16-byte pieces stay aligned)
  static constexpr size_t kWeightBytes = 2 * size_t{CZ} * kStrideW * 2;  // projection and gate
  static constexpr size_t kParamBytes = (2 * CZ + 2 * CB + 2 * kTileRows) * sizeof(float);  // norm, biases, masks
  static constexpr size_t kTileBytes = 2 * size_t{kTileRows} * kStrideZ * 2;  // two stages of pair rows
  static constexpr size_t kOutBytes = size_t{CB} * kStrideO * 2;
  static constexpr size_t kSmemBytes = kWeightBytes + kParamBytes + kTileBytes + kOutBytes;
  static constexpr int kHalf = CB / 2;   // output channels per pass over the products
  static constexpr int kNb = kHalf / 8;  // n-blocks per pass
  static_assert(kParamBytes % 16 == 0, "the pair tiles must start 16-byte aligned");
};

__device__ __forceinline__ float sigmoid(float x) { return 1.0f / (1.0f + __expf(-x)); }

// blockIdx.y: the side (0 left, 1 right); blockIdx.x walks the tiles of rows. vec_out: every channel's run of
// outputs starts 16-byte aligned (row_begin L and L^2 multiples of 8, aligned bases).
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
  float* const masks = bg + CB;                                  // [2][kTileRows]
  uint16_t* const Zs = reinterpret_cast<uint16_t*>(masks + 2 * kTileRows);  // [2][kTileRows][kStrideZ]
  uint16_t* const Os = Zs + 2 * kTileRows * T::kStrideZ;        // [CB][kStrideO] the gated tile, channel-major

  const int side = blockIdx.y;
  const int tid = threadIdx.x, warp = tid >> 5, lane = tid & 31, g = lane >> 2, t = lane & 3;
  const uint16_t* const w = static_cast<const uint16_t*>(p.w);
  for (int e = tid; e < CZ * CB / 8; e += kThreads) {
    const int r = e / (CB / 8), c8 = (e % (CB / 8)) * 8;
    cp_async_16(Wp + r * T::kStrideW + c8, w + r * 4 * CB + side * CB + c8, true);
    cp_async_16(Wg + r * T::kStrideW + c8, w + r * 4 * CB + (2 + side) * CB + c8, true);
  }
  for (int e = tid; e < CZ; e += kThreads) {
    scale[e] = p.ln_scale[e];
    offset[e] = p.ln_offset[e];
  }
  for (int e = tid; e < CB; e += kThreads) {
    bp[e] = p.b[side * CB + e];
    bg[e] = p.b[(2 + side) * CB + e];
  }

  const uint16_t* const pair = static_cast<const uint16_t*>(p.pair);
  const int64_t N = p.rows * p.L, plane = p.L * p.L;
  const int64_t n_tiles = (N + kTileRows - 1) / kTileRows;
  uint16_t* const out = static_cast<uint16_t*>(side ? p.right : p.left) + p.row_begin * p.L;  // channel c: + c L^2
  // The rows of a tile and their mask values into a stage (zeros past the last row); one commit group per tile
  // (the first also carries the weights).
  auto load_tile = [&](int64_t tile, int stage) {
    const int64_t n0 = tile * kTileRows;
    uint16_t* const Z = Zs + stage * kTileRows * T::kStrideZ;
    for (int e = tid; e < kTileRows * CZ / 8; e += kThreads) {
      const int r = e / (CZ / 8), c8 = (e % (CZ / 8)) * 8;
      const bool ok = n0 + r < N;
      cp_async_16(Z + r * T::kStrideZ + c8, ok ? pair + (n0 + r) * p.pair_ld + c8 : pair, ok);
    }
    if (tid < kTileRows) {
      const bool ok = n0 + tid < N;
      cp_async_4(masks + stage * kTileRows + tid, ok ? p.mask + n0 + tid : p.mask, ok);
    }
    cp_async_commit();
  };

  const int r0 = warp * 16 + g, r1 = r0 + 8;  // this thread's rows of the tile
  int stage = 0;
  if (blockIdx.x < n_tiles) load_tile(blockIdx.x, 0);
  for (int64_t tile = blockIdx.x; tile < n_tiles; tile += gridDim.x, stage ^= 1) {
    // The next tile loads into the other stage (last read before the previous tile's second barrier).
    if (tile + gridDim.x < n_tiles) {
      load_tile(tile + gridDim.x, stage ^ 1);
      cp_async_wait<1>();
    } else {
      cp_async_wait<0>();
    }
    __syncthreads();  // this tile's rows are in; the previous tile's output has left Os
    const uint16_t* const Z = Zs + stage * kTileRows * T::kStrideZ;
    const float mask0 = masks[stage * kTileRows + r0], mask1 = masks[stage * kTileRows + r1];
    uint32_t xa[CZ / 16][4];
    layer_norm_fragments<CZ>(Z, T::kStrideZ, r0, r1, t, scale, offset, p.eps, xa);
#pragma unroll
    for (int h = 0; h < 2; ++h) {
      float ap[T::kNb][4], ag[T::kNb][4];
#pragma unroll
      for (int nb = 0; nb < T::kNb; ++nb)
#pragma unroll
        for (int e = 0; e < 4; ++e) ap[nb][e] = ag[nb][e] = 0.f;
      accumulate_product<CZ / 16, T::kNb>(ap, xa, Wp + h * T::kHalf, T::kStrideW, lane);
      accumulate_product<CZ / 16, T::kNb>(ag, xa, Wg + h * T::kHalf, T::kStrideW, lane);
      // Os[c][row] = mask * (projection + b) * sigmoid(gate + b_gate), rounded once.
#pragma unroll
      for (int nb = 0; nb < T::kNb; ++nb)
#pragma unroll
        for (int hr = 0; hr < 2; ++hr)
#pragma unroll
          for (int e = 0; e < 2; ++e) {
            const int c = h * T::kHalf + nb * 8 + 2 * t + e, row = hr ? r1 : r0;
            const float y = (hr ? mask1 : mask0) * (ap[nb][2 * hr + e] + bp[c]) * sigmoid(ag[nb][2 * hr + e] + bg[c]);
            Os[c * T::kStrideO + row] = __bfloat16_as_ushort(__float2bfloat16_rn(y));
          }
    }
    __syncthreads();  // Os holds the gated tile
    const int64_t n0 = tile * kTileRows;
    const int nrows = static_cast<int>(N - n0 < kTileRows ? N - n0 : kTileRows);
    if (vec_out && nrows == kTileRows) {
      for (int e = tid; e < CB * kTileRows / 8; e += kThreads) {
        const int c = e / (kTileRows / 8), r8 = (e % (kTileRows / 8)) * 8;
        *reinterpret_cast<uint4*>(out + c * plane + n0 + r8) = *reinterpret_cast<const uint4*>(Os + c * T::kStrideO + r8);
      }
    } else {
      for (int e = tid; e < CB * kTileRows; e += kThreads) {
        const int c = e / kTileRows, r = e % kTileRows;
        if (r < nrows) out[c * plane + n0 + r] = Os[c * T::kStrideO + r];
      }
    }
  }
}

template <int CZ, int CB>
void launch_widths(const TriangleProjectionParams& p, cudaStream_t stream) {
  using T = ProjectionTile<CZ, CB>;
  auto kernel = triangle_projection_kernel<CZ, CB>;
  AXF_CUDA_CHECK(
      cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(T::kSmemBytes)));
  int device = 0, sms = 0, per_sm = 0;
  AXF_CUDA_CHECK(cudaGetDevice(&device));
  AXF_CUDA_CHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device));
  AXF_CUDA_CHECK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, kernel, kThreads, T::kSmemBytes));
  const int64_t tiles = (p.rows * p.L + kTileRows - 1) / kTileRows;
  // Half of the resident blocks per side (both sides read every tile of rows).
  const int64_t per_side = std::min<int64_t>(tiles, std::max<int64_t>(1, int64_t{std::max(per_sm, 1)} * sms / 2));
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
