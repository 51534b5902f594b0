// Embedding lookup, exactly one-hot @ table: out[n, :] (+)= table[index[n], :]; index -1 (any negative) adds
// nothing (and writes zeros without accumulate). Out-of-range indices raise a device flag the host checks.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

#include "kernels/copy.cuh"
#include "kernels/rows.cuh"

namespace axf::kernels {

struct EmbeddingParams {
  const int32_t* index = nullptr;  // [rows of out] contiguous
  const void* table = nullptr;     // fp32 or bf16 (table_type)
  ElemType table_type = ElemType::F32;
  RowLayout table_rows;            // vocab rows of cols
  void* out = nullptr;             // fp32 or bf16 (out_type)
  ElemType out_type = ElemType::F32;
  RowLayout out_rows;
  bool accumulate = false;
  int32_t* bad_index = nullptr;    // set to 1 when an index >= vocab is seen (that row is left unchanged)
};

void launch_embedding(const EmbeddingParams& p, cudaStream_t stream);

}  // namespace axf::kernels
