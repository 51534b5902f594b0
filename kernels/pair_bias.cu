#include "kernels/pair_bias.cuh"

#include <algorithm>

#include "backend/cuda/cuda_check.h"
#include "kernels/elem_io.cuh"
#include "kernels/rows_device.cuh"

namespace axf::kernels {

namespace {

constexpr int kThreads = 256;
constexpr int kRowsPerBlock = 64;

__device__ __forceinline__ float round_bf16(float x) { return __bfloat162float(__float2bfloat16_rn(x)); }

template <int C, int H>
__global__ void __launch_bounds__(kThreads) pair_bias_kernel(const PairBiasParams p) {
  constexpr int kGroup = C / kPacket;             // lanes per row
  constexpr int kPerPass = kThreads / kGroup;     // rows per pass of the block
  static_assert(kRowsPerBlock % kPerPass == 0, "passes must tile the block's rows");
  __shared__ bf16 logits[H][kRowsPerBlock];
  const int tid = threadIdx.x, lane = tid % kGroup, slot = tid / kGroup, c0 = lane * kPacket;
  const bool normalise = p.ln_scale != nullptr;
  float scale[kPacket], offset[kPacket], w[kPacket][H];
#pragma unroll
  for (int k = 0; k < kPacket; ++k) {
    scale[k] = normalise ? p.ln_scale[c0 + k] : 1.f;
    offset[k] = normalise ? p.ln_offset[c0 + k] : 0.f;
#pragma unroll
    for (int h = 0; h < H; ++h) w[k][h] = p.w[(c0 + k) * H + h];
  }
  const bf16* const x = static_cast<const bf16*>(p.x);
  bf16* const out = static_cast<bf16*>(p.out);
  for (int64_t n0 = static_cast<int64_t>(blockIdx.x) * kRowsPerBlock; n0 < p.rows;
       n0 += static_cast<int64_t>(gridDim.x) * kRowsPerBlock) {
#pragma unroll
    for (int pass = 0; pass < kRowsPerBlock / kPerPass; ++pass) {
      const int local = pass * kPerPass + slot;
      const int64_t n = n0 + local;
      float v[kPacket] = {};
      if (n < p.rows) ld8(x + n * p.x_ld + c0, v);  // every lane stays in the shuffles below
      if (normalise) {
        float s = 0.f;
#pragma unroll
        for (int k = 0; k < kPacket; ++k) s += v[k];
        const float mean = group_sum(s, kGroup) / C;
        float q = 0.f;
#pragma unroll
        for (int k = 0; k < kPacket; ++k) q += (v[k] - mean) * (v[k] - mean);
        const float rstd = rsqrtf(group_sum(q, kGroup) / C + p.eps);
#pragma unroll
        for (int k = 0; k < kPacket; ++k) v[k] = round_bf16((v[k] - mean) * rstd * scale[k] + offset[k]);
      }
#pragma unroll
      for (int h = 0; h < H; ++h) {
        float a = 0.f;
#pragma unroll
        for (int k = 0; k < kPacket; ++k) a = fmaf(v[k], w[k][h], a);
        a = group_sum(a, kGroup);
        if (lane == h % kGroup) logits[h][local] = __float2bfloat16_rn(a);
      }
    }
    __syncthreads();
    for (int e = tid; e < H * kRowsPerBlock; e += kThreads) {
      const int h = e / kRowsPerBlock, j = e % kRowsPerBlock;
      if (n0 + j < p.rows) out[h * p.out_head_stride + n0 + j] = logits[h][j];
    }
    __syncthreads();
  }
}

template <int C, int H>
void launch_widths(const PairBiasParams& p, cudaStream_t stream) {
  const int64_t blocks = std::min<int64_t>((p.rows + kRowsPerBlock - 1) / kRowsPerBlock, 65535);
  pair_bias_kernel<C, H><<<static_cast<unsigned>(blocks), kThreads, 0, stream>>>(p);
  AXF_CUDA_CHECK_LAUNCH("pair_bias_kernel");
}

}  // namespace

bool pair_bias_fits(const PairBiasParams& p) {
  return pair_bias_supported(p.c, p.heads) && aligned(p.x, 16) && (p.rows <= 1 || p.x_ld % kPacket == 0) &&
         aligned(p.out, 2) && (!p.ln_scale) == (!p.ln_offset);
}

void launch_pair_bias(const PairBiasParams& p, cudaStream_t stream) {
  AXF_CHECK(pair_bias_fits(p), "pair_bias: unsupported problem (C=", p.c, ", H=", p.heads, ") or unaligned rows");
  if (p.rows == 0) return;
  if (p.c == 128) {
    p.heads == 8 ? launch_widths<128, 8>(p, stream) : launch_widths<128, 4>(p, stream);
  } else {
    p.heads == 8 ? launch_widths<64, 8>(p, stream) : launch_widths<64, 4>(p, stream);
  }
}

}  // namespace axf::kernels
