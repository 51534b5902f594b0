// LayerNorm over the last dim (fp32 statistics, biased variance as in AlphaFold/Haiku): one row group per row (a
// warp, or fewer lanes: rows read in 16-byte packets take as few lanes as hold them in four packets each); rows
// addressed through a RowLayout, so strided views work and the output may alias the input. Rows of up to 32 * kLayerNormMaxPerLane elements are held in registers (one read
// of x); longer rows take two passes over memory.
#pragma once

#include <cuda_runtime_api.h>

#include "kernels/copy.cuh"
#include "kernels/rows.cuh"

namespace axf::kernels {

constexpr int kLayerNormMaxPerLane = 16;

struct LayerNormParams {
  const void* x = nullptr;  // fp32 or bf16 (x_type); statistics in fp32
  ElemType x_type = ElemType::F32;
  RowLayout x_rows;
  void* out = nullptr;      // fp32 or bf16 (out_type)
  ElemType out_type = ElemType::F32;
  RowLayout out_rows;       // same rows and cols as x
  const float* scale = nullptr;   // [cols] contiguous
  const float* offset = nullptr;  // [cols] contiguous
  float eps = 1e-5f;
};

void launch_layer_norm(const LayerNormParams& p, cudaStream_t stream);

}  // namespace axf::kernels
