// The epilogue of linear layers: out = act(src + bias), or out += act(src + bias) with accumulate, where src is
// a dense GEMM result or (in place) the output itself. Outputs are any RowLayout, so strided views work.
#pragma once

#include <cuda_runtime_api.h>

#include "kernels/copy.cuh"
#include "kernels/rows.cuh"

namespace axf::kernels {

enum class Act : int { None = 0, Relu = 1, Sigmoid = 2 };

struct BiasActParams {
  const float* src = nullptr;  // fp32 [rows, cols] with row stride src_ld; nullptr: the output's own values
  int64_t src_ld = 0;
  void* out = nullptr;         // fp32 or bf16 (out_type)
  ElemType out_type = ElemType::F32;
  RowLayout out_rows;
  const float* bias = nullptr;  // [cols] contiguous, or nullptr
  Act act = Act::None;
  bool accumulate = false;      // only with src
};

void launch_bias_act(const BiasActParams& p, cudaStream_t stream);

}  // namespace axf::kernels
