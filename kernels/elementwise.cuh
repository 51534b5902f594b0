// Row-wise element-wise operations on fp32 tensors with a dense last dim: add, sigmoid gating, per-row scale,
// ReLU and fill. One kernel, the operation chosen at run time (a uniform branch), so there is one instance.
#pragma once

#include <cuda_runtime_api.h>

#include "kernels/rows.cuh"

namespace axf::kernels {

enum class ElementwiseOp : int {
  Add,         // dst += src
  SigmoidMul,  // dst *= sigmoid(src)
  MulRows,     // dst[r, :] *= src[r]   (src rows have one column)
  Relu,        // dst = max(dst, 0)
  Fill,        // dst = value
};

struct ElementwiseParams {
  ElementwiseOp op = ElementwiseOp::Fill;
  float* dst = nullptr;
  RowLayout dst_rows;
  const float* src = nullptr;  // Add, SigmoidMul: same rows and cols as dst; MulRows: same rows, one col
  RowLayout src_rows;
  float value = 0.f;
};

void launch_elementwise(const ElementwiseParams& p, cudaStream_t stream);

}  // namespace axf::kernels
