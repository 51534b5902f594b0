#include "kernels/outer_product_mean.cuh"

#include <algorithm>

#include "backend/cuda/cuda_check.h"
#include "kernels/elem_io.cuh"
#include "kernels/rows_device.cuh"

namespace axf::kernels {

namespace {

constexpr int kPermuteBlock = 256;

// [ri, A, L, Bc] -> [ri, L, A, Bc]: one block per (i, j), threads over the A*Bc contiguous output elements.
template <class T>
__global__ void __launch_bounds__(kPermuteBlock) permute_outer_kernel(const T* __restrict__ src,
                                                                      T* __restrict__ dst, int64_t L, int A,
                                                                      int Bc) {
  const int64_t ij = blockIdx.x;
  const int64_t i = ij / L, j = ij - i * L;
  const int ab = A * Bc;
  T* d = dst + ij * ab;
  for (int e = threadIdx.x; e < ab; e += kPermuteBlock) {
    const int a = e / Bc, b = e - a * Bc;
    d[e] = src[((i * A + a) * L + j) * Bc + b];
  }
}

// The same permutation in 16-byte packets of 8 (Bc % 8 == 0, 16-byte aligned buffers; for_each_packet over the
// `pairs` output rows of A * Bc).
template <class T>
__global__ void __launch_bounds__(kRowBlock) permute_outer_packets(const T* __restrict__ src, T* __restrict__ dst,
                                                                   int64_t L, int A, int Bc, int64_t pairs) {
  for_each_packet(pairs, int64_t{A} * Bc, [&](int64_t ij, int64_t e) {
    int64_t j = 0;
    const int64_t i = div_rem(ij, L, &j);
    const int a = static_cast<int>(e) / Bc, b = static_cast<int>(e) - a * Bc;
    *reinterpret_cast<uint4*>(dst + ij * A * Bc + e) =
        *reinterpret_cast<const uint4*>(src + ((i * A + a) * L + j) * Bc + b);
  });
}

// out.row(row0*L + n)[c] (+)= (res[n, c] + bias[c]) / (eps + norm.row(row0 + n / L)[n % L]).
template <class TO>
__global__ void __launch_bounds__(kRowBlock) opm_epilogue_kernel(const float* __restrict__ res, int64_t n_rows,
                                                                 int64_t L, int64_t Cz, const float* bias,
                                                                 const float* norm, const RowLayout norm_rows,
                                                                 TO* out, const RowLayout out_rows, int64_t row0,
                                                                 float eps, bool accumulate, int group) {
  const GroupIndex g = group_index(group);
  for (int64_t base = g.base; base < n_rows; base += g.step) {
    const int64_t n = base + g.sub;
    if (n >= n_rows) continue;
    const int64_t i = n / L, j = n - i * L;
    const float denom = eps + norm[row_offset(norm_rows, row0 + i) + j];
    const float* r = res + n * Cz;
    TO* o = out + row_offset(out_rows, row0 * L + n);
    for (int64_t c = g.lane; c < Cz; c += group) {
      const float v = (r[c] + bias[c]) / denom;
      st(o + c, accumulate ? ld(o + c) + v : v);
    }
  }
}

// The same epilogue in packets of 8 channels (Cz % 8 == 0, out rows 16-byte aligned; for_each_packet).
template <class TO>
__global__ void __launch_bounds__(kRowBlock) opm_epilogue_packets(const float* __restrict__ res, int64_t n_rows,
                                                                  int64_t L, int64_t Cz, const float* bias,
                                                                  const float* norm, const RowLayout norm_rows,
                                                                  TO* out, const RowLayout out_rows, int64_t row0,
                                                                  float eps, bool accumulate) {
  for_each_packet(n_rows, Cz, [&](int64_t n, int64_t c) {
    int64_t j = 0;
    const int64_t i = div_rem(n, L, &j);
    const float denom = eps + norm[row_offset(norm_rows, row0 + i) + j];
    float v[kPacket], b[kPacket], prev[kPacket];
    ld8(res + n * Cz + c, v);
    ld8(bias + c, b);
    TO* o = out + row_offset(out_rows, row0 * L + n) + c;
    if (accumulate) ld8(o, prev);
#pragma unroll
    for (int e = 0; e < kPacket; ++e) {
      const float y = (v[e] + b[e]) / denom;
      v[e] = accumulate ? prev[e] + y : y;
    }
    st8(o, v);
  });
}

int64_t align256(int64_t bytes) { return (bytes + 255) / 256 * 256; }

}  // namespace

int64_t outer_product_mean_chunk_rows(const OuterProductMeanParams& p, size_t budget_bytes) {
  const int64_t per_row = std::max<int64_t>(1, outer_product_mean_workspace_bytes(p, 1));
  return std::clamp<int64_t>(static_cast<int64_t>(budget_bytes) / per_row, 1, std::max<int64_t>(p.rows, 1));
}

size_t outer_product_mean_workspace_bytes(const OuterProductMeanParams& p, int64_t chunk_rows) {
  // outer and its permuted copy (in the input dtype), then the projected result (fp32), each 256-byte aligned.
  const int64_t esize = p.in_type == ElemType::BF16 ? 2 : 4;
  return static_cast<size_t>(2 * align256(chunk_rows * p.L * p.A * p.Bc * esize) + chunk_rows * p.L * p.Cz * 4);
}

void launch_outer_product_mean(const OuterProductMeanParams& p, int64_t chunk_rows, void* workspace,
                               const GemmEngine& gemm_engine, cudaStream_t stream) {
  if (p.rows == 0 || p.L == 0 || p.Cz == 0) return;
  AXF_CHECK(p.A * p.Bc <= 0x7fffffffll, "outer_product_mean: ", p.A, " x ", p.Bc, " channels are too many");
  const int64_t L = p.L, ab = p.A * p.Bc;
  const int64_t esize = p.in_type == ElemType::BF16 ? 2 : 4;
  char* outer = static_cast<char*>(workspace);
  char* permuted = outer + align256(chunk_rows * p.A * L * p.Bc * esize);
  float* res = reinterpret_cast<float*>(permuted + align256(chunk_rows * L * ab * esize));
  for (int64_t r0 = 0; r0 < p.rows; r0 += chunk_rows) {
    const int64_t ri = std::min(chunk_rows, p.rows - r0);
    const int64_t i0 = p.row_begin + r0;
    // outer[(i,a), (j,b)] = left[:, i0:i0+ri, :]^T @ right   (left viewed as [S, L*A], right as [S, L*Bc])
    GemmParams g1;
    g1.ab_type = g1.c_type = p.in_type;
    g1.math = p.math;
    g1.trans_a = true;
    g1.m = ri * p.A;
    g1.n = L * p.Bc;
    g1.k = p.S;
    g1.a = static_cast<const char*>(p.left) + i0 * p.A * esize;
    g1.lda = L * p.A;
    g1.b = p.right;
    g1.ldb = L * p.Bc;
    g1.c = outer;
    g1.ldc = L * p.Bc;
    gemm(gemm_engine, g1, "outer_product_mean outer");
    if (ab > 0) {
      AXF_CHECK(ri * L <= 0x7fffffffll, "outer_product_mean: block of ", ri * L, " pairs exceeds the grid limit");
      // outer and permuted start 256-byte aligned; packets of 8 need only Bc % 8 == 0 (fp32: two uint4 per 8).
      dispatch_float_type(p.in_type, "outer_product_mean", [&](auto t) {
        using T = decltype(t);
        constexpr int per_uint4 = static_cast<int>(16 / sizeof(T));
        if (p.Bc % kPacket == 0 && per_uint4 == kPacket) {
          const int64_t packets = ri * L * ab / kPacket;
          permute_outer_packets<T><<<row_grid(packets, 1), kRowBlock, 0, stream>>>(
              reinterpret_cast<const T*>(outer), reinterpret_cast<T*>(permuted), L, static_cast<int>(p.A),
              static_cast<int>(p.Bc), ri * L);
        } else {
          permute_outer_kernel<T><<<static_cast<unsigned>(ri * L), kPermuteBlock, 0, stream>>>(
              reinterpret_cast<const T*>(outer), reinterpret_cast<T*>(permuted), L, static_cast<int>(p.A),
              static_cast<int>(p.Bc));
        }
      });
      AXF_CUDA_CHECK_LAUNCH("permute_outer_kernel");
    }
    // res[(i,j), :] = permuted[(i,j), (a,b)] @ w
    GemmParams g2;
    g2.ab_type = p.in_type;
    g2.math = p.math;
    g2.m = ri * L;
    g2.n = p.Cz;
    g2.k = ab;
    g2.a = permuted;
    g2.lda = std::max<int64_t>(ab, 1);
    g2.b = p.w;
    g2.ldb = p.Cz;
    g2.c = res;
    g2.ldc = p.Cz;
    gemm(gemm_engine, g2, "outer_product_mean projection");
    const int group = row_group_size(p.Cz);
    const bool packets = p.Cz % kPacket == 0 && packets_fit(p.out_rows, p.out) &&
                         aligned(p.bias, 16);
    dispatch_float_type(p.out_type, "outer_product_mean output", [&](auto to) {
      using TO = decltype(to);
      if (packets) {
        opm_epilogue_packets<TO><<<row_grid(ri * L * p.Cz / kPacket, 1), kRowBlock, 0, stream>>>(
            res, ri * L, L, p.Cz, p.bias, p.norm, p.norm_rows, static_cast<TO*>(p.out), p.out_rows, r0, p.eps,
            p.accumulate);
        return;
      }
      opm_epilogue_kernel<TO><<<row_grid(ri * L, group), kRowBlock, 0, stream>>>(
          res, ri * L, L, p.Cz, p.bias, p.norm, p.norm_rows, static_cast<TO*>(p.out), p.out_rows, r0, p.eps,
          p.accumulate, group);
    });
    AXF_CUDA_CHECK_LAUNCH("opm_epilogue_kernel");
  }
}

}  // namespace axf::kernels
