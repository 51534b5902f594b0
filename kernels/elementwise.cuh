// Row-wise element-wise operations on tensors with a dense last dim (fp32 or bf16 each, fp32 arithmetic): add,
// sigmoid gating, per-row scale, ReLU and fill. One kernel per pair of dtypes, the operation chosen at run time
// (a uniform branch).
#pragma once

#include <cuda_runtime_api.h>

#include "kernels/copy.cuh"
#include "kernels/rows.cuh"

namespace axf::kernels {

enum class ElementwiseOp : int {
  Add,         // dst += src
  SigmoidMul,  // dst *= sigmoid(src)
  GatedAdd,    // dst += src * sigmoid(gate)
  MulRows,     // dst[r, :] *= src[r]   (src rows have one column)
  Relu,        // dst = max(dst, 0)
  Fill,        // dst = value
};

struct ElementwiseParams {
  ElementwiseOp op = ElementwiseOp::Fill;
  void* dst = nullptr;
  ElemType dst_type = ElemType::F32;
  RowLayout dst_rows;
  const void* src = nullptr;  // Add, SigmoidMul: same rows and cols as dst; MulRows: same rows, one col
  ElemType src_type = ElemType::F32;
  RowLayout src_rows;
  const void* gate = nullptr;  // GatedAdd: same rows and cols as dst, gate_type
  ElemType gate_type = ElemType::F32;
  RowLayout gate_rows;
  float value = 0.f;
};

void launch_elementwise(const ElementwiseParams& p, cudaStream_t stream);

}  // namespace axf::kernels
