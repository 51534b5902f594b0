// Extra-MSA embedding without the one-hot features (Backend::extra_msa_embedding):
//   out[s,i,:] = ((w[aatype[s,i]] + has_deletion[s,i] * w[23]) + deletion_value[s,i] * w[24]) + bias
// a row group per (s, i); aatype outside [0, 23) adds no row (the host validated the inputs; no synchronisation).
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

#include "kernels/copy.cuh"

namespace axf::kernels {

struct ExtraMsaEmbeddingParams {
  const int32_t* aatype = nullptr;        // [E, L] contiguous
  const float* has_deletion = nullptr;    // [E, L]
  const float* deletion_value = nullptr;  // [E, L]
  const void* w = nullptr;                // [25, channels] contiguous
  const void* bias = nullptr;             // [channels] or nullptr
  ElemType w_type = ElemType::F32, bias_type = ElemType::F32;
  void* out = nullptr;                    // [E, L, channels], last dim dense
  ElemType out_type = ElemType::F32;
  int64_t out_s0 = 0, out_s1 = 0;
  int64_t num_seq = 0, num_res = 0, channels = 0;
};

void launch_extra_msa_embedding(const ExtraMsaEmbeddingParams& p, cudaStream_t stream);

}  // namespace axf::kernels
