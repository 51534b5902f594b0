#include "kernels/triangle_multiply.cuh"

#include <algorithm>

#include "backend/cuda/cuda_check.h"
#include "kernels/elem_io.cuh"
#include "kernels/rows_device.cuh"

namespace axf::kernels {

namespace {

constexpr int kTile = 32;
constexpr int kTileRows = 8;
constexpr size_t kMaxStaticSmem = 48 * 1024;  // dynamic shared memory a launch may take without opting in

// Tile of 32 channels x 32 positions: read along positions (coalesced in src), write along channels
// (coalesced in each output row). The +1 column keeps the shared-memory transpose free of bank conflicts.
template <class TO>
__global__ void __launch_bounds__(kTile * kTileRows) scatter_channels_kernel(const float* __restrict__ src, int64_t C,
                                                                            int64_t N, TO* out,
                                                                            const RowLayout out_rows, int64_t row0) {
  __shared__ float tile[kTile][kTile + 1];
  const int64_t n0 = static_cast<int64_t>(blockIdx.x) * kTile, c0 = static_cast<int64_t>(blockIdx.y) * kTile;
  const int tx = threadIdx.x, ty = threadIdx.y;
  for (int i = ty; i < kTile; i += kTileRows) {
    const int64_t c = c0 + i, n = n0 + tx;
    if (c < C && n < N) tile[i][tx] = src[c * N + n];
  }
  __syncthreads();
  for (int i = ty; i < kTile; i += kTileRows) {
    const int64_t n = n0 + i, c = c0 + tx;
    if (n < N && c < C) st(out + row_offset(out_rows, row0 + n) + c, tile[tx][i]);
  }
}

template <class TI, class TO>
__global__ void __launch_bounds__(kTile * kTileRows) gated_transpose_kernel(const GatedTransposeParams p) {
  __shared__ float tile[kTile][kTile + 1];
  const int64_t N = p.rows * p.L;
  const int64_t n0 = static_cast<int64_t>(blockIdx.x) * kTile, c0 = static_cast<int64_t>(blockIdx.y) * kTile;
  const int tx = threadIdx.x, ty = threadIdx.y;
  const TI* proj = static_cast<const TI*>(p.proj);
  const TI* gate = static_cast<const TI*>(p.gate);
  for (int i = ty; i < kTile; i += kTileRows) {
    const int64_t n = n0 + i, c = c0 + tx;
    if (n < N && c < p.C) {
      const int64_t r = n / p.L, j = n - r * p.L;
      const float m = p.mask[r * p.mask_s0 + j * p.mask_s1];
      const float x = ld(proj + row_offset(p.proj_rows, n) + c), g = ld(gate + row_offset(p.gate_rows, n) + c);
      tile[i][tx] = (x * m) * sigmoidf_ref(g);
    }
  }
  __syncthreads();
  TO* out = static_cast<TO*>(p.out);
  for (int i = ty; i < kTile; i += kTileRows) {
    const int64_t n = n0 + tx, c = c0 + i;
    if (n < N && c < p.C) {
      const int64_t r = n / p.L, j = n - r * p.L;
      st(out + (c * p.L + p.row_begin + r) * p.L + j, tile[tx][i]);
    }
  }
}

// Packet paths: tiles of 64 positions x 64 channels, channels read or written in 16-byte packets of 8 (one row
// offset per packet); the position-major side 8 positions per 16-byte packet when every output row starts 16-byte
// aligned (kVecOut), else one element per lane along the positions (coalesced).
constexpr int kPTile = 64;
constexpr int kPThreads = 256;

template <class TI, class TO, bool kVecOut>
__global__ void __launch_bounds__(kPThreads) gated_transpose_packets(const GatedTransposeParams p) {
  __shared__ float tile[kPTile][kPTile + 1];  // [position][channel]
  const int64_t N = p.rows * p.L;
  const int64_t n0 = static_cast<int64_t>(blockIdx.x) * kPTile, c0 = static_cast<int64_t>(blockIdx.y) * kPTile;
  const int tid = threadIdx.x;
  const TI* proj = static_cast<const TI*>(p.proj);
  const TI* gate = static_cast<const TI*>(p.gate);
#pragma unroll
  for (int it = 0; it < kPTile * kPTile / kPacket / kPThreads; ++it) {
    const int e = it * kPThreads + tid, pi = e / (kPTile / kPacket), q = e % (kPTile / kPacket);
    const int64_t n = n0 + pi, c = c0 + q * kPacket;
    if (n < N && c < p.C) {
      int64_t j = 0;
      const int64_t r = div_rem(n, p.L, &j);
      const float m = p.mask[r * p.mask_s0 + j * p.mask_s1];
      float x[kPacket], g[kPacket];
      ld8(proj + row_offset(p.proj_rows, n) + c, x);
      ld8(gate + row_offset(p.gate_rows, n) + c, g);
#pragma unroll
      for (int k = 0; k < kPacket; ++k) tile[pi][q * kPacket + k] = (x[k] * m) * sigmoidf_ref(g[k]);
    }
  }
  __syncthreads();
  TO* out = static_cast<TO*>(p.out);
  if constexpr (kVecOut) {  // L % 8 == 0: 8 positions never straddle an output row
#pragma unroll
    for (int it = 0; it < kPTile * kPTile / kPacket / kPThreads; ++it) {
      const int e = it * kPThreads + tid, ch = e / (kPTile / kPacket), q = e % (kPTile / kPacket);
      const int64_t n = n0 + q * kPacket, c = c0 + ch;
      if (n < N && c < p.C) {
        int64_t j = 0;
        const int64_t r = div_rem(n, p.L, &j);
        float v[kPacket];
#pragma unroll
        for (int k = 0; k < kPacket; ++k) v[k] = tile[q * kPacket + k][ch];
        st8(out + (c * p.L + p.row_begin + r) * p.L + j, v);
      }
    }
  } else {
#pragma unroll 4
    for (int it = 0; it < kPTile * kPTile / kPThreads; ++it) {
      const int e = it * kPThreads + tid, ch = e / kPTile, pi = e % kPTile;
      const int64_t n = n0 + pi, c = c0 + ch;
      if (n < N && c < p.C) {
        int64_t j = 0;
        const int64_t r = div_rem(n, p.L, &j);
        st(out + (c * p.L + p.row_begin + r) * p.L + j, tile[pi][ch]);
      }
    }
  }
}

// src [C, N] fp32 (positions contiguous) -> out rows [N, C]: positions read one per lane (coalesced), channels
// written in packets of 8.
template <class TO>
__global__ void __launch_bounds__(kPThreads) scatter_channels_packets(const float* __restrict__ src, int64_t C,
                                                                      int64_t N, TO* out, const RowLayout out_rows,
                                                                      int64_t row0) {
  __shared__ float tile[kPTile][kPTile + 1];  // [position][channel]
  const int64_t n0 = static_cast<int64_t>(blockIdx.x) * kPTile, c0 = static_cast<int64_t>(blockIdx.y) * kPTile;
  const int tid = threadIdx.x;
#pragma unroll 4
  for (int it = 0; it < kPTile * kPTile / kPThreads; ++it) {
    const int e = it * kPThreads + tid, ch = e / kPTile, pi = e % kPTile;
    const int64_t n = n0 + pi, c = c0 + ch;
    if (n < N && c < C) tile[pi][ch] = src[c * N + n];
  }
  __syncthreads();
#pragma unroll
  for (int it = 0; it < kPTile * kPTile / kPacket / kPThreads; ++it) {
    const int e = it * kPThreads + tid, pi = e / (kPTile / kPacket), q = e % (kPTile / kPacket);
    const int64_t n = n0 + pi, c = c0 + q * kPacket;
    if (n < N && c < C) {
      float v[kPacket];
#pragma unroll
      for (int k = 0; k < kPacket; ++k) v[k] = tile[pi][q * kPacket + k];
      st8(out + row_offset(out_rows, row0 + n) + c, v);
    }
  }
}

// The same scatter with the center LayerNorm of Alg. 11/12 line 5 over the C channels of each position, from the
// fp32 products (statistics in fp32, biased variance): kLnPositions positions per block with all their channels in
// shared memory ([C][kLnPositions + 1]); the 8 warps each sum every 8th channel of the 32 positions, then the rows
// are written normalised (in packets of 8 channels when kVec).
constexpr int kLnPositions = 32;
constexpr int kLnParts = kPThreads / kLnPositions;

size_t scatter_layer_norm_smem(int64_t C) { return static_cast<size_t>(C) * (kLnPositions + 1) * sizeof(float); }

template <class TO, bool kVec>
__global__ void __launch_bounds__(kPThreads) scatter_layer_norm_kernel(const float* __restrict__ src, int64_t C,
                                                                       int64_t N, TO* out, const RowLayout out_rows,
                                                                       int64_t row0, const float* __restrict__ scale,
                                                                       const float* __restrict__ offset, float eps) {
  extern __shared__ float ln_tile[];  // [C][kLnPositions + 1]
  __shared__ float partial[kLnParts][kLnPositions];
  __shared__ float mean_s[kLnPositions], rstd_s[kLnPositions];
  constexpr int kStride = kLnPositions + 1;
  const int64_t n0 = static_cast<int64_t>(blockIdx.x) * kLnPositions;
  const int tid = threadIdx.x, pos = tid % kLnPositions, part = tid / kLnPositions;
  const int64_t n = n0 + pos;
  const int ch = static_cast<int>(C);
  float sum = 0.f;
  for (int c = part; c < ch; c += kLnParts) {
    const float x = n < N ? src[c * N + n] : 0.f;
    ln_tile[c * kStride + pos] = x;
    sum += x;
  }
  partial[part][pos] = sum;
  __syncthreads();
  if (part == 0) {
    float t = 0.f;
#pragma unroll
    for (int q = 0; q < kLnParts; ++q) t += partial[q][pos];
    mean_s[pos] = t / static_cast<float>(ch);
  }
  __syncthreads();
  const float mean = mean_s[pos];
  float sq = 0.f;
  for (int c = part; c < ch; c += kLnParts) {
    const float d = ln_tile[c * kStride + pos] - mean;
    sq += d * d;
  }
  partial[part][pos] = sq;  // the sums were read before the barrier above
  __syncthreads();
  if (part == 0) {
    float t = 0.f;
#pragma unroll
    for (int q = 0; q < kLnParts; ++q) t += partial[q][pos];
    rstd_s[pos] = rsqrtf(t / static_cast<float>(ch) + eps);
  }
  __syncthreads();
  if constexpr (kVec) {
    const int packets = ch / kPacket;
    for (int e = tid; e < kLnPositions * packets; e += kPThreads) {
      const int p = e / packets, c0 = (e % packets) * kPacket;
      if (n0 + p >= N) continue;
      const float m = mean_s[p], r = rstd_s[p];
      float v[kPacket];
#pragma unroll
      for (int k = 0; k < kPacket; ++k)
        v[k] = (ln_tile[(c0 + k) * kStride + p] - m) * r * scale[c0 + k] + offset[c0 + k];
      st8(out + row_offset(out_rows, row0 + n0 + p) + c0, v);
    }
  } else {
    for (int e = tid; e < kLnPositions * ch; e += kPThreads) {
      const int p = e / ch, c = e % ch;
      if (n0 + p >= N) continue;
      st(out + row_offset(out_rows, row0 + n0 + p) + c,
         (ln_tile[c * kStride + p] - mean_s[p]) * rstd_s[p] * scale[c] + offset[c]);
    }
  }
}

void launch_scatter_layer_norm(const float* src, const TriangleMultiplyParams& p, int64_t N, int64_t row0,
                               cudaStream_t stream) {
  if (N == 0) return;
  const int64_t blocks = (N + kLnPositions - 1) / kLnPositions;
  AXF_CHECK(blocks <= 0x7fffffffll, "triangle_multiply: ", N, " positions exceed the grid limit");
  const bool vec = p.C % kPacket == 0 && packets_fit(p.out_rows, p.out) && aligned(p.ln_scale, 16) &&
                   aligned(p.ln_offset, 16);
  dispatch_float_type(p.out_type, "triangle_multiply output", [&](auto to) {
    using TO = decltype(to);
    auto kernel = vec ? scatter_layer_norm_kernel<TO, true> : scatter_layer_norm_kernel<TO, false>;
    kernel<<<static_cast<unsigned>(blocks), kPThreads, scatter_layer_norm_smem(p.C), stream>>>(
        src, p.C, N, static_cast<TO*>(p.out), p.out_rows, row0, p.ln_scale, p.ln_offset, p.ln_eps);
  });
  AXF_CUDA_CHECK_LAUNCH("scatter_layer_norm_kernel");
}

}  // namespace

void launch_gated_transpose(const GatedTransposeParams& p, cudaStream_t stream) {
  const int64_t N = p.rows * p.L;
  if (N == 0 || p.C == 0) return;
  const bool packets = p.C % kPacket == 0 && packets_fit(p.proj_rows, p.proj) && packets_fit(p.gate_rows, p.gate);
  const int tile = packets ? kPTile : kTile;
  const int64_t gx = (N + tile - 1) / tile, gy = (p.C + tile - 1) / tile;
  AXF_CHECK(gx <= 0x7fffffffll && gy <= 65535, "gated_transpose: ", N, " positions x ", p.C,
            " channels exceed the grid limits");
  const dim3 grid(static_cast<unsigned>(gx), static_cast<unsigned>(gy));
  const bool vec_out = p.L % kPacket == 0 && aligned(p.out, 16);
  dispatch_float_types(p.in_type, p.out_type, "gated_transpose", [&](auto ti, auto to) {
    using TI = decltype(ti);
    using TO = decltype(to);
    if (packets && vec_out) {
      gated_transpose_packets<TI, TO, true><<<grid, kPThreads, 0, stream>>>(p);
    } else if (packets) {
      gated_transpose_packets<TI, TO, false><<<grid, kPThreads, 0, stream>>>(p);
    } else {
      gated_transpose_kernel<TI, TO><<<grid, dim3(kTile, kTileRows), 0, stream>>>(p);
    }
  });
  AXF_CUDA_CHECK_LAUNCH("gated_transpose_kernel");
}

void launch_scatter_channels(const float* src, int64_t C, int64_t N, void* out, ElemType out_type,
                             const RowLayout& out_rows, int64_t row0, cudaStream_t stream) {
  if (C == 0 || N == 0) return;
  const bool packets = C % kPacket == 0 && packets_fit(out_rows, out);
  const int tile = packets ? kPTile : kTile;
  const int64_t gx = (N + tile - 1) / tile, gy = (C + tile - 1) / tile;
  AXF_CHECK(gx <= 0x7fffffffll && gy <= 65535, "scatter_channels: ", N, " positions x ", C,
            " channels exceed the grid limits");
  const dim3 grid(static_cast<unsigned>(gx), static_cast<unsigned>(gy));
  dispatch_float_type(out_type, "triangle_multiply output", [&](auto to) {
    using TO = decltype(to);
    if (packets) {
      scatter_channels_packets<TO><<<grid, kPThreads, 0, stream>>>(src, C, N, static_cast<TO*>(out), out_rows, row0);
    } else {
      scatter_channels_kernel<TO>
          <<<grid, dim3(kTile, kTileRows), 0, stream>>>(src, C, N, static_cast<TO*>(out), out_rows, row0);
    }
  });
  AXF_CUDA_CHECK_LAUNCH("scatter_channels_kernel");
}

bool triangle_multiply_fuses_layer_norm(int64_t C) { return scatter_layer_norm_smem(C) <= kMaxStaticSmem; }

int64_t triangle_multiply_chunk_rows(const TriangleMultiplyParams& p, size_t budget_bytes) {
  const int64_t row_bytes = std::max<int64_t>(1, p.L * p.C * static_cast<int64_t>(sizeof(float)));
  return std::clamp<int64_t>(static_cast<int64_t>(budget_bytes) / row_bytes, 1, std::max<int64_t>(p.rows, 1));
}

void launch_triangle_multiply(const TriangleMultiplyParams& p, int64_t chunk_rows, float* workspace,
                              const GemmEngine& gemm_engine, cudaStream_t stream) {
  if (p.rows == 0 || p.L == 0 || p.C == 0) return;
  const int64_t L = p.L, plane = L * L;
  const size_t esize = p.in_type == ElemType::BF16 ? 2 : 4;
  const char* left = static_cast<const char*>(p.left);
  const char* right = static_cast<const char*>(p.right);
  AXF_CHECK(!p.ln_scale == !p.ln_offset, "triangle_multiply: the center LayerNorm needs both scale and offset");
  AXF_CHECK(!p.ln_scale || triangle_multiply_fuses_layer_norm(p.C), "triangle_multiply: ", p.C,
            " channels are too many for the LayerNorm in the scatter");
  for (int64_t r0 = 0; r0 < p.rows; r0 += chunk_rows) {
    const int64_t rc = std::min(chunk_rows, p.rows - r0);
    const int64_t i0 = p.row_begin + r0;
    GemmParams g;
    g.m = rc;
    g.n = L;
    g.k = L;
    g.c = workspace;
    g.ldc = L;
    g.stride_c = rc * L;
    g.batch = p.C;
    g.ab_type = p.in_type;
    g.math = p.math;
    if (!p.incoming) {
      // tmp[c] = left[c][i0:i0+rc, :] @ right[c]^T
      g.a = left + i0 * L * esize;
      g.lda = L;
      g.stride_a = plane;
      g.b = right;
      g.trans_b = true;
      g.ldb = L;
      g.stride_b = plane;
    } else {
      // tmp[c] = right[c][:, i0:i0+rc]^T @ left[c]
      g.a = right + i0 * esize;
      g.trans_a = true;
      g.lda = L;
      g.stride_a = plane;
      g.b = left;
      g.ldb = L;
      g.stride_b = plane;
    }
    gemm(gemm_engine, g, "triangle_multiply");
    if (p.ln_scale) {
      launch_scatter_layer_norm(workspace, p, rc * L, r0 * L, stream);
    } else {
      launch_scatter_channels(workspace, p.C, rc * L, p.out, p.out_type, p.out_rows, r0 * L, stream);
    }
  }
}

}  // namespace axf::kernels
