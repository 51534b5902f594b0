#include "kernels/outer_product_mean.cuh"

#include <algorithm>

#include "backend/cuda/cuda_check.h"
#include "kernels/elem_io.cuh"
#include "kernels/rows_device.cuh"

namespace axf::kernels {

namespace {

constexpr int kTile = 32;
constexpr int kTileRows = 8;

// dst[s, c, r] = src[s, r, c] for r < R, c < C, s < batch (grid z): tiles of 32 x 32, read along c, written
// along r; the +1 column keeps the shared-memory transpose free of bank conflicts.
template <class T>
__global__ void __launch_bounds__(kTile * kTileRows) transpose_batched_kernel(const T* __restrict__ src,
                                                                             T* __restrict__ dst, int64_t R,
                                                                             int64_t C) {
  __shared__ T tile[kTile][kTile + 1];
  const int64_t r0 = static_cast<int64_t>(blockIdx.x) * kTile, c0 = static_cast<int64_t>(blockIdx.y) * kTile;
  const int64_t batch_offset = static_cast<int64_t>(blockIdx.z) * R * C;
  src += batch_offset;
  dst += batch_offset;
  const int tx = threadIdx.x, ty = threadIdx.y;
  for (int i = ty; i < kTile; i += kTileRows) {
    const int64_t r = r0 + i, c = c0 + tx;
    if (r < R && c < C) tile[i][tx] = src[r * C + c];
  }
  __syncthreads();
  for (int i = ty; i < kTile; i += kTileRows) {
    const int64_t c = c0 + i, r = r0 + tx;
    if (c < C && r < R) dst[c * R + r] = tile[tx][i];
  }
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
  const int64_t fixed = static_cast<int64_t>(outer_product_mean_workspace_bytes(p, 0));
  const int64_t per_row = std::max<int64_t>(1, static_cast<int64_t>(outer_product_mean_workspace_bytes(p, 1)) - fixed);
  const int64_t room = static_cast<int64_t>(budget_bytes) - fixed;
  return std::clamp<int64_t>(room / per_row, 1, std::max<int64_t>(p.rows, 1));
}

size_t outer_product_mean_workspace_bytes(const OuterProductMeanParams& p, int64_t chunk_rows) {
  // right_t and outer (in the input dtype), then the projected result (fp32), each 256-byte aligned.
  const int64_t esize = p.in_type == ElemType::BF16 ? 2 : 4;
  return static_cast<size_t>(align256(p.S * p.Bc * p.L * esize) + align256(chunk_rows * p.A * p.Bc * p.L * esize) +
                             chunk_rows * p.L * p.Cz * 4);
}

void launch_outer_product_mean(const OuterProductMeanParams& p, int64_t chunk_rows, void* workspace,
                               const GemmEngine& gemm_engine, cudaStream_t stream) {
  if (p.rows == 0 || p.L == 0 || p.Cz == 0) return;
  AXF_CHECK(p.A * p.Bc <= 0x7fffffffll, "outer_product_mean: ", p.A, " x ", p.Bc, " channels are too many");
  const int64_t L = p.L, ab = p.A * p.Bc;
  const int64_t esize = p.in_type == ElemType::BF16 ? 2 : 4;
  char* right_t = static_cast<char*>(workspace);
  char* outer = right_t + align256(p.S * p.Bc * L * esize);
  float* res = reinterpret_cast<float*>(outer + align256(chunk_rows * ab * L * esize));
  if (p.S > 0 && p.Bc > 0) {
    const dim3 grid(static_cast<unsigned>((L + kTile - 1) / kTile), static_cast<unsigned>((p.Bc + kTile - 1) / kTile),
                    static_cast<unsigned>(p.S));
    AXF_CHECK(grid.y <= 65535 && grid.z <= 65535, "outer_product_mean: ", p.S, " sequences x ", p.Bc,
              " channels exceed the grid limits of the transpose");
    dispatch_float_type(p.in_type, "outer_product_mean", [&](auto t) {
      using T = decltype(t);
      transpose_batched_kernel<T><<<grid, dim3(kTile, kTileRows), 0, stream>>>(
          static_cast<const T*>(p.right), reinterpret_cast<T*>(right_t), L, p.Bc);
    });
    AXF_CUDA_CHECK_LAUNCH("transpose_batched_kernel");
  }
  for (int64_t r0 = 0; r0 < p.rows; r0 += chunk_rows) {
    const int64_t ri = std::min(chunk_rows, p.rows - r0);
    const int64_t i0 = p.row_begin + r0;
    // outer[(i,a), (b,j)] = left[:, i0:i0+ri, :]^T @ right_t   (left viewed as [S, L*A], right_t as [S, Bc*L])
    GemmParams g1;
    g1.ab_type = g1.c_type = p.in_type;
    g1.math = p.math;
    g1.trans_a = true;
    g1.m = ri * p.A;
    g1.n = p.Bc * L;
    g1.k = p.S;
    g1.a = static_cast<const char*>(p.left) + i0 * p.A * esize;
    g1.lda = L * p.A;
    g1.b = right_t;
    g1.ldb = p.Bc * L;
    g1.c = outer;
    g1.ldc = p.Bc * L;
    gemm(gemm_engine, g1, "outer_product_mean outer");
    // res[i][j, :] = outer[i][(a,b), j]^T @ w for each row i of the block (w shared: batch stride 0)
    GemmParams g2;
    g2.ab_type = p.in_type;
    g2.math = p.math;
    g2.trans_a = true;
    g2.m = L;
    g2.n = p.Cz;
    g2.k = ab;
    g2.a = outer;
    g2.lda = L;
    g2.stride_a = ab * L;
    g2.b = p.w;
    g2.ldb = p.Cz;
    g2.c = res;
    g2.ldc = p.Cz;
    g2.stride_c = L * p.Cz;
    g2.batch = ri;
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
