// AlphaFold's mask_mean over keys: out[b, :] = sum_k mask[b,k] x[b,k,:] / (sum_k mask[b,k] + eps), fp32
// accumulation. One block per (b, 32-column tile); its 8 warps split the keys and reduce in shared memory.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

#include "kernels/copy.cuh"

namespace axf::kernels {

struct MaskedMeanParams {
  int64_t B = 0, K = 0, C = 0;
  const void* x = nullptr;  // [B, K, C], last dim dense; fp32 or bf16 (x_type)
  ElemType x_type = ElemType::F32;
  int64_t x_sb = 0, x_sk = 0;
  const float* mask = nullptr;  // [B, K]
  int64_t mask_sb = 0, mask_sk = 0;
  void* out = nullptr;  // [B, C], last dim dense; fp32 or bf16 (out_type)
  ElemType out_type = ElemType::F32;
  int64_t out_sb = 0;
  float eps = 1e-10f;
};

void launch_masked_mean(const MaskedMeanParams& p, cudaStream_t stream);

}  // namespace axf::kernels
