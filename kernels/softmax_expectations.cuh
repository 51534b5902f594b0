// Expectations under a softmax over the last dim (Backend::softmax_expectations; the confidence metrics of
// AlphaFold's common/confidence.py computed where the logits are):
//   out[r, v] = sum_b softmax(logits[r, :])_b * values[v, b],   v < V <= kMaxExpectations
// logits rows [rows, bins] fp32 in any RowLayout, values [V, bins] fp32 contiguous, out rows [rows, V] fp32. One
// group of lanes per row (the lanes split the bins): the row maximum, then exp(x - max) summed with and without the
// values, fp32 throughout.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

#include "kernels/rows.cuh"

namespace axf::kernels {

struct SoftmaxExpectationParams {
  static constexpr int kMaxExpectations = 4;
  const float* logits = nullptr;
  RowLayout logits_rows;  // rows x bins
  const float* values = nullptr;  // [V, bins]
  int V = 1;
  float* out = nullptr;
  RowLayout out_rows;  // rows x V
};

void launch_softmax_expectations(const SoftmaxExpectationParams& p, cudaStream_t stream);

}  // namespace axf::kernels
