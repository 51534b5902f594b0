// Triangle multiplicative update core (Suppl. Alg. 11/12 line 4) on channel-major inputs [C, L, L]: one
// strided-batched cuBLAS GEMM over the channels gives tmp[c, i, j] for a block of output rows, then a tiled
// transpose scatters it into the channel-last output rows [rows, L, C] (normalised there by the center LayerNorm
// when asked). Rows are processed in sub-blocks so tmp stays within the given workspace.
//   Outgoing: tmp[c,i,j] = sum_k left[c,i,k] right[c,j,k];   Incoming: tmp[c,i,j] = sum_k right[c,k,i] left[c,k,j]
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>

#include "kernels/copy.cuh"
#include "kernels/gemm.cuh"
#include "kernels/rows.cuh"

namespace axf::kernels {

struct TriangleMultiplyParams {
  const void* left = nullptr;   // [C, L, L] contiguous
  const void* right = nullptr;  // [C, L, L] contiguous
  ElemType in_type = ElemType::F32;   // of left and right: fp32 or bf16 (tensor cores)
  GemmMath math = GemmMath::Fp32;
  int64_t C = 0, L = 0;
  int64_t rows = 0, row_begin = 0;  // output rows i in [row_begin, row_begin + rows)
  bool incoming = false;
  void* out = nullptr;
  ElemType out_type = ElemType::F32;
  RowLayout out_rows;  // rows * L rows of C
  // When set ([C] fp32 each; only where triangle_multiply_fuses_layer_norm(C)): out = LayerNorm over C of the fp32
  // products (Alg. 11/12 line 5's center LayerNorm, fused into the scatter; statistics in fp32, biased variance).
  const float* ln_scale = nullptr;
  const float* ln_offset = nullptr;
  float ln_eps = 1e-5f;
};

// Whether the scatter can normalise rows of C channels (all of a position's channels fit one block's shared memory).
bool triangle_multiply_fuses_layer_norm(int64_t C);

// Output rows per sub-block so that tmp fits `budget_bytes` (at least one).
int64_t triangle_multiply_chunk_rows(const TriangleMultiplyParams& p, size_t budget_bytes);
inline size_t triangle_multiply_workspace_bytes(const TriangleMultiplyParams& p, int64_t chunk_rows) {
  return static_cast<size_t>(chunk_rows * p.L * p.C) * sizeof(float);
}

void launch_triangle_multiply(const TriangleMultiplyParams& p, int64_t chunk_rows, float* workspace,
                              const GemmEngine& gemm_engine, cudaStream_t stream);

// Triangle multiplication's gated projections, channel-major (backend::GatedTransposeArgs):
//   out[c, row_begin + r, j] = (proj[r, j, c] * mask[r, j]) * sigmoid(gate[r, j, c])
// as a tiled transpose (32 positions x 32 channels per block; reads along channels, writes along j).
struct GatedTransposeParams {
  const void* proj = nullptr;
  const void* gate = nullptr;
  ElemType in_type = ElemType::F32;  // of proj and gate
  RowLayout proj_rows, gate_rows;    // rows * L rows of C
  const float* mask = nullptr;       // [rows, L]
  int64_t mask_s0 = 0, mask_s1 = 0;
  void* out = nullptr;               // [C, L, L] contiguous
  ElemType out_type = ElemType::F32;
  int64_t rows = 0, L = 0, C = 0, row_begin = 0;
};
void launch_gated_transpose(const GatedTransposeParams& p, cudaStream_t stream);

// out.row(row0 + n)[c] = src[c * N + n] for n < N, c < C (used by triangle multiply; a tiled transpose); out is
// fp32 or bf16.
void launch_scatter_channels(const float* src, int64_t C, int64_t N, void* out, ElemType out_type,
                             const RowLayout& out_rows, int64_t row0, cudaStream_t stream);

}  // namespace axf::kernels
