// Outer product mean core (Suppl. Alg. 10 lines 2-4, AlphaFold's order: bias before the mask normalisation) as
// two GEMMs per block of output rows i, with right's channels moved ahead of its positions once per call:
//   right_t[s, b, j] = right[s, j, b]                               (tiled transpose, [S, Bc, L])
//   outer[i, a, b, j] = sum_s left[s,i,a] right_t[s,b,j]            (one GEMM, k = S: [(i,a), (b,j)])
//   res[i, j, :] = outer[i]^T @ w   over (a,b) = k                  (one GEMM batched over i, k = A*Bc)
//   out[i,j,:] (+)= (res + bias) / (eps + norm[i,j])               (epilogue kernel)
// outer[i] is [(a,b), j] with one row stride, so the projection reads it transposed in place: no [(i,j), (a,b)]
// copy of the outer products. Blocks of rows are sized so the buffers fit the workspace (right_t counts once).
// left, right and w share one dtype (fp32, or bf16 on the tensor cores: outer is then bf16 too, as in a bf16
// einsum); res is fp32.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>

#include "kernels/copy.cuh"
#include "kernels/gemm.cuh"
#include "kernels/rows.cuh"

namespace axf::kernels {

struct OuterProductMeanParams {
  const void* left = nullptr;   // [S, L, A] contiguous
  const void* right = nullptr;  // [S, L, Bc] contiguous
  int64_t S = 0, L = 0, A = 0, Bc = 0, Cz = 0;
  const void* w = nullptr;      // [A*Bc, Cz] contiguous
  ElemType in_type = ElemType::F32;  // of left, right and w
  GemmMath math = GemmMath::Fp32;
  const float* bias = nullptr;  // [Cz] contiguous
  const float* norm = nullptr;
  RowLayout norm_rows;  // rows of L
  void* out = nullptr;
  ElemType out_type = ElemType::F32;
  RowLayout out_rows;  // rows * L rows of Cz
  int64_t rows = 0, row_begin = 0;
  float eps = 1e-3f;
  bool accumulate = false;
};

// Output rows per block so the workspace fits `budget_bytes` (at least one; right_t is needed whatever the rows),
// and the workspace for it.
int64_t outer_product_mean_chunk_rows(const OuterProductMeanParams& p, size_t budget_bytes);
size_t outer_product_mean_workspace_bytes(const OuterProductMeanParams& p, int64_t chunk_rows);

void launch_outer_product_mean(const OuterProductMeanParams& p, int64_t chunk_rows, void* workspace,
                               const GemmEngine& gemm_engine, cudaStream_t stream);

}  // namespace axf::kernels
