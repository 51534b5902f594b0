// Attention softmax over keys, in place on a dense logits block [nb, H, Qc, K] (fp32): adds the shared bias
// [H, Q, K], replaces masked keys by -1e9 (AlphaFold's value, after the bias), subtracts the row maximum and
// normalises. One row group (a warp, fewer lanes for short rows) per row.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

namespace axf::kernels {

struct SoftmaxParams {
  float* logits = nullptr;  // [nb, H, Qc, K] contiguous
  int64_t nb = 0, H = 0, Qc = 0, K = 0;
  const float* bias = nullptr;  // element [h, q, k] of this block's first query at bias + h*s0 + q*s1 + k*s2
  int64_t bias_s0 = 0, bias_s1 = 0, bias_s2 = 0;
  const float* mask = nullptr;  // element [b, k] of this block's first batch at mask + b*sb + k*sk; sb 0 broadcasts
  int64_t mask_sb = 0, mask_sk = 0;
};

void launch_softmax(const SoftmaxParams& p, cudaStream_t stream);

}  // namespace axf::kernels
