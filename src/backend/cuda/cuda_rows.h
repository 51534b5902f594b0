// Host-side description of device tensors for the kernels: RowLayouts (rows of a dense last dim, any strides of
// the leading dims, merged where they are evenly strided) and the checks every CUDA op makes on its tensors.
#pragma once

#include "core/error.h"
#include "core/tensor.h"
#include "kernels/copy.cuh"
#include "kernels/rows.cuh"

namespace axf::backend::cuda {

// A defined tensor on the GPU (any dtype).
inline void check_device_tensor(const core::Tensor& t, const char* what) {
  AXF_CHECK(t.defined(), what, ": undefined tensor");
  AXF_CHECK(t.device() == core::Device::CUDA, what, ": tensor ", t.describe(), " is not on the GPU");
}

inline void check_device_f32(const core::Tensor& t, const char* what) {
  check_device_tensor(t, what);
  AXF_CHECK(t.dtype() == core::DType::F32, what, ": the CUDA backend computes in fp32, got ", t.describe());
}

// Activations: fp32 or bf16 (kernels compute in fp32 either way).
inline void check_device_float(const core::Tensor& t, const char* what) {
  check_device_tensor(t, what);
  AXF_CHECK(t.dtype() == core::DType::F32 || t.dtype() == core::DType::BF16, what,
            ": the CUDA backend computes on fp32 or bf16 tensors, got ", t.describe());
}

inline float* f32_ptr(const core::Tensor& t) { return static_cast<float*>(t.raw_data()); }

// Leading dims `shape[0..nd)` with `strides` as a RowLayout of `cols` columns: size-1 dims dropped, neighbours
// merged when the outer one steps exactly over the inner one.
inline kernels::RowLayout make_layout(const int64_t* shape, const int64_t* strides, int nd, int64_t cols,
                                      const char* what) {
  kernels::RowLayout m;
  m.cols = cols;
  m.rows = 1;
  for (int i = 0; i < nd; ++i) {
    m.rows *= shape[i];
    if (shape[i] == 1) continue;
    if (m.nd > 0 && m.stride[m.nd - 1] == strides[i] * shape[i]) {
      m.shape[m.nd - 1] *= shape[i];
      m.stride[m.nd - 1] = strides[i];
      continue;
    }
    AXF_CHECK(m.nd < kernels::kMaxRowDims, what, ": more than ", kernels::kMaxRowDims, " leading dims");
    m.shape[m.nd] = shape[i];
    m.stride[m.nd] = strides[i];
    ++m.nd;
  }
  return m;
}

// Rows of a device fp32 or bf16 tensor with a dense last dim (the layout row-wise kernels take).
inline kernels::RowLayout rows_of(const core::Tensor& t, const char* what) {
  check_device_float(t, what);
  if (t.ndim() == 0) return make_layout(nullptr, nullptr, 0, 1, what);
  const int64_t cols = t.size(-1);
  AXF_CHECK(cols <= 1 || t.stride(-1) == 1, what, ": last dim of ", t.describe(), " must be dense (stride ",
            t.stride(-1), ")");
  return make_layout(t.shape().data(), t.strides().data(), t.ndim() - 1, cols, what);
}

// Every element of `t` as a row of one column (per-row scales, masks indexed by row).
inline kernels::RowLayout scalar_rows_of(const core::Tensor& t, const char* what) {
  check_device_float(t, what);
  return make_layout(t.shape().data(), t.strides().data(), t.ndim(), 1, what);
}

inline kernels::ElemType elem_type(core::DType t) {
  switch (t) {
    case core::DType::F32: return kernels::ElemType::F32;
    case core::DType::BF16: return kernels::ElemType::BF16;
    case core::DType::F16: return kernels::ElemType::F16;
    case core::DType::I32: return kernels::ElemType::I32;
  }
  AXF_FAIL("unknown dtype");
}

// Whether t is a contiguous fp32 vector of n elements (the form the fused kernels take their parameters in).
inline bool is_dense_f32_vector(const core::Tensor& t, int64_t n) {
  return t.defined() && t.dtype() == core::DType::F32 && t.numel() == n && t.is_contiguous();
}

// A contiguous fp32 vector of n elements on the GPU (LayerNorm scales, biases).
inline const float* dense_vector(const core::Tensor& t, int64_t n, const char* what) {
  check_device_f32(t, what);
  AXF_CHECK(t.numel() == n && t.is_contiguous(), what, ": expected ", n, " contiguous values, got ", t.describe());
  return f32_ptr(t);
}

}  // namespace axf::backend::cuda
