// LayerNorm over the last dim (fp32 statistics, biased variance as in AlphaFold/Haiku): one row group (a warp,
// or fewer lanes for short rows) per row; rows addressed through a RowLayout, so strided views work and the
// output may alias the input.
#pragma once

#include <cuda_runtime_api.h>

#include "kernels/rows.cuh"

namespace axf::kernels {

struct LayerNormParams {
  const float* x = nullptr;
  RowLayout x_rows;
  float* out = nullptr;
  RowLayout out_rows;       // same rows and cols as x
  const float* scale = nullptr;   // [cols] contiguous
  const float* offset = nullptr;  // [cols] contiguous
  float eps = 1e-5f;
};

void launch_layer_norm(const LayerNormParams& p, cudaStream_t stream);

}  // namespace axf::kernels
