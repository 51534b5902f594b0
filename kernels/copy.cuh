// Strided copy between device tensors of equal shape (rank <= 8) with dtype conversion among fp32, bf16, fp16
// and int32, bit-identical to core::copy_host (round to nearest even; int32 from float truncates).
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

namespace axf::kernels {

constexpr int kMaxCopyDims = 8;

enum class ElemType : int { F32 = 0, BF16 = 1, F16 = 2, I32 = 3 };  // the order of core::DType

struct CopyParams {
  int nd = 0;  // after merging dims that are contiguous in both tensors; 0 = one element
  int64_t shape[kMaxCopyDims] = {};
  int64_t src_stride[kMaxCopyDims] = {};  // elements
  int64_t dst_stride[kMaxCopyDims] = {};
  const void* src = nullptr;  // element 0 of each view
  void* dst = nullptr;
  ElemType src_type = ElemType::F32;
  ElemType dst_type = ElemType::F32;
};

// Merges dims and drops size-1 dims (host), then launches. `ndim`, `shape` and the strides describe the
// views as given.
void launch_copy(int ndim, const int64_t* shape, const int64_t* src_stride, const int64_t* dst_stride,
                 const void* src, ElemType src_type, void* dst, ElemType dst_type, cudaStream_t stream);

}  // namespace axf::kernels
