#include "kernels/triangle_gated_output.cuh"

#include <algorithm>

#include "backend/cuda/cuda_check.h"
#include "kernels/mma_sm80.cuh"
#include "kernels/rows.cuh"

namespace axf::kernels {

namespace {

constexpr int kTileRows = 64;  // rows per tile: 4 warps of 16
constexpr int kThreads = 128;

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

// acc[nb] += a (a warp's 16 rows, KS k-blocks of A fragments) @ W[:, 8 nb .. 8 nb + 7] for NB n-blocks, W row-major
// bf16 in shared memory (`stride` elements per row, B fragments by ldmatrix.trans).
template <int KS, int NB>
__device__ __forceinline__ void accumulate_product(float (&acc)[NB][4], const uint32_t (&a)[KS][4], const uint16_t* W,
                                                   int stride, int frag_row, int frag_col) {
#pragma unroll
  for (int ks = 0; ks < KS; ++ks)
#pragma unroll
    for (int nb = 0; nb < NB; nb += 2) {
      uint32_t b[4];
      ldmatrix_x4_trans(b, W + (ks * 16 + frag_row) * stride + nb * 8 + frag_col);
      mma_bf16_16816(acc[nb], a[ks], b[0], b[1]);
      mma_bf16_16816(acc[nb + 1], a[ks], b[2], b[3]);
    }
}

template <int CZ, int C>
struct GatedOutputTile {
  static constexpr int kStrideZ = CZ + 8;  // bf16 per shared row (16 bytes of padding: conflict-free ldmatrix)
  static constexpr int kStrideC = C + 8;
  static constexpr size_t kWeightElems = static_cast<size_t>(CZ + C) * kStrideZ;
  static constexpr size_t kSmemBytes = kWeightElems * 2 + 4 * CZ * sizeof(float) +
                                       static_cast<size_t>(kTileRows) * (kStrideZ + kStrideC) * 2;
  static constexpr int kHalf = CZ / 2;    // output columns per pass over the products
  static constexpr int kNb = kHalf / 8;   // n-blocks per pass
};

template <int CZ, int C>
__global__ void __launch_bounds__(kThreads, 2) triangle_gated_output_kernel(const TriangleGatedOutputParams p) {
  using T = GatedOutputTile<CZ, C>;
  extern __shared__ float4 smem_f4[];
  uint16_t* const Wg = reinterpret_cast<uint16_t*>(smem_f4);  // [CZ][kStrideZ]
  uint16_t* const Wo = Wg + CZ * T::kStrideZ;                  // [C][kStrideZ]
  float* const scale = reinterpret_cast<float*>(Wg + T::kWeightElems);
  float* const offset = scale + CZ;
  float* const gate_b = offset + CZ;
  float* const out_b = gate_b + CZ;
  uint16_t* const Ps = reinterpret_cast<uint16_t*>(out_b + CZ);  // [kTileRows][kStrideZ]
  uint16_t* const Ts = Ps + kTileRows * T::kStrideZ;             // [kTileRows][kStrideC]

  const int tid = threadIdx.x, warp = tid >> 5, lane = tid & 31, g = lane >> 2, t = lane & 3;
  const uint16_t* const gw = static_cast<const uint16_t*>(p.gating_w);
  const uint16_t* const ow = static_cast<const uint16_t*>(p.output_w);
  for (int e = tid; e < CZ * CZ / 8; e += kThreads) {
    const int r = e / (CZ / 8), c8 = (e % (CZ / 8)) * 8;
    cp_async_16(Wg + r * T::kStrideZ + c8, gw + r * CZ + c8, true);
  }
  for (int e = tid; e < C * CZ / 8; e += kThreads) {
    const int r = e / (CZ / 8), c8 = (e % (CZ / 8)) * 8;
    cp_async_16(Wo + r * T::kStrideZ + c8, ow + r * CZ + c8, true);
  }
  cp_async_commit();
  for (int e = tid; e < CZ; e += kThreads) {
    scale[e] = p.ln_scale[e];
    offset[e] = p.ln_offset[e];
    gate_b[e] = p.gating_b[e];
    out_b[e] = p.output_b[e];
  }

  uint16_t* const pair = static_cast<uint16_t*>(p.pair);
  const uint16_t* const tin = static_cast<const uint16_t*>(p.t);
  const int64_t n_tiles = (p.rows + kTileRows - 1) / kTileRows;
  const int r0 = warp * 16 + g, r1 = r0 + 8;  // this thread's rows of the tile
  for (int64_t tile = blockIdx.x; tile < n_tiles; tile += gridDim.x) {
    const int64_t row0 = tile * kTileRows;
    const int nrows = static_cast<int>(p.rows - row0 < kTileRows ? p.rows - row0 : kTileRows);
    for (int e = tid; e < kTileRows * CZ / 8; e += kThreads) {
      const int r = e / (CZ / 8), c8 = (e % (CZ / 8)) * 8;
      const bool ok = r < nrows;
      cp_async_16(Ps + r * T::kStrideZ + c8, ok ? pair + (row0 + r) * p.pair_ld + c8 : pair, ok);
    }
    for (int e = tid; e < kTileRows * C / 8; e += kThreads) {
      const int r = e / (C / 8), c8 = (e % (C / 8)) * 8;
      const bool ok = r < nrows;
      cp_async_16(Ts + r * T::kStrideC + c8, ok ? tin + (row0 + r) * p.t_ld + c8 : tin, ok);
    }
    cp_async_commit();
    cp_async_wait<0>();
    __syncthreads();

    // LayerNorm of rows r0 and r1 (two passes over shared memory, fp32): each quad lane reads the columns of its
    // A fragments, 16 ks + 2t + {0, 1, 8, 9}, and only those; so do its epilogue writes below (no lane reads an
    // element another lane rewrites).
    auto at = [&](int row, int col) { return *reinterpret_cast<const uint32_t*>(Ps + row * T::kStrideZ + col); };
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
    const float rstd0 = rsqrtf(quad_sum(q0) / CZ + p.eps), rstd1 = rsqrtf(quad_sum(q1) / CZ + p.eps);
    uint32_t xa[CZ / 16][4];
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
    const int frag_row = (lane & 7) + ((lane >> 3) & 1) * 8, frag_col = (lane >> 4) * 8;  // ldmatrix lane address
    uint32_t ta[C / 16][4];
#pragma unroll
    for (int ks = 0; ks < C / 16; ++ks)
      ldmatrix_x4(ta[ks], Ts + (warp * 16 + frag_row) * T::kStrideC + ks * 16 + frag_col);

#pragma unroll
    for (int h = 0; h < 2; ++h) {
      float ga[T::kNb][4], ua[T::kNb][4];
#pragma unroll
      for (int nb = 0; nb < T::kNb; ++nb)
#pragma unroll
        for (int e = 0; e < 4; ++e) ga[nb][e] = ua[nb][e] = 0.f;
      accumulate_product<CZ / 16, T::kNb>(ga, xa, Wg + h * T::kHalf, T::kStrideZ, frag_row, frag_col);
      accumulate_product<C / 16, T::kNb>(ua, ta, Wo + h * T::kHalf, T::kStrideZ, frag_row, frag_col);
      // pair += sigmoid(gate) * update for this thread's elements (rows r0, r1; columns col, col + 1), in place.
#pragma unroll
      for (int nb = 0; nb < T::kNb; ++nb)
#pragma unroll
        for (int hr = 0; hr < 2; ++hr) {
          const int row = hr ? r1 : r0, col = h * T::kHalf + nb * 8 + 2 * t;
          uint32_t* const dst = reinterpret_cast<uint32_t*>(Ps + row * T::kStrideZ + col);
          const uint32_t old = *dst;
          float y[2];
#pragma unroll
          for (int e = 0; e < 2; ++e) {
            const float gate = 1.0f / (1.0f + __expf(-(ga[nb][2 * hr + e] + gate_b[col + e])));
            y[e] = (e ? bf16_hi(old) : bf16_lo(old)) + gate * (ua[nb][2 * hr + e] + out_b[col + e]);
          }
          *dst = pack_bf16x2(y[0], y[1]);
        }
    }
    __syncthreads();
    for (int e = tid; e < kTileRows * CZ / 8; e += kThreads) {
      const int r = e / (CZ / 8), c8 = (e % (CZ / 8)) * 8;
      if (r < nrows)
        *reinterpret_cast<uint4*>(pair + (row0 + r) * p.pair_ld + c8) =
            *reinterpret_cast<const uint4*>(Ps + r * T::kStrideZ + c8);
    }
    __syncthreads();  // the tiles are free for the next rows
  }
}

template <int CZ, int C>
void launch_widths(const TriangleGatedOutputParams& p, cudaStream_t stream) {
  using T = GatedOutputTile<CZ, C>;
  auto kernel = triangle_gated_output_kernel<CZ, C>;
  AXF_CUDA_CHECK(
      cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(T::kSmemBytes)));
  int device = 0, sms = 0, per_sm = 0;
  AXF_CUDA_CHECK(cudaGetDevice(&device));
  AXF_CUDA_CHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device));
  AXF_CUDA_CHECK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, kernel, kThreads, T::kSmemBytes));
  const int64_t tiles = (p.rows + kTileRows - 1) / kTileRows;
  const int64_t blocks = std::min<int64_t>(tiles, static_cast<int64_t>(std::max(per_sm, 1)) * sms);
  kernel<<<static_cast<unsigned>(blocks), kThreads, T::kSmemBytes, stream>>>(p);
  AXF_CUDA_CHECK_LAUNCH("triangle_gated_output_kernel");
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
