// Typed loads and stores for kernels whose tensors are fp32 or bf16 (the trunk's activation dtypes): arithmetic
// is always fp32; bf16 values are widened on load and rounded to nearest even on store (the same bits as
// core::float_to_bf16). dispatch_float_type turns a run-time ElemType into a template argument on the host.
#pragma once

#include <cuda_bf16.h>

#include <utility>

#include "core/error.h"
#include "kernels/copy.cuh"

namespace axf::kernels {

using bf16 = __nv_bfloat16;

__device__ __forceinline__ float ld(const float* p) { return *p; }
__device__ __forceinline__ float ld(const bf16* p) { return __bfloat162float(*p); }
__device__ __forceinline__ void st(float* p, float v) { *p = v; }
__device__ __forceinline__ void st(bf16* p, float v) { *p = __float2bfloat16_rn(v); }

inline const char* elem_type_name(ElemType t) {
  switch (t) {
    case ElemType::F32: return "fp32";
    case ElemType::BF16: return "bf16";
    case ElemType::F16: return "fp16";
    case ElemType::I32: return "int32";
  }
  return "?";
}

// f(float{}) or f(bf16{}) for F32 / BF16; other types are an error naming `what`.
template <class F>
void dispatch_float_type(ElemType t, const char* what, F&& f) {
  switch (t) {
    case ElemType::F32: std::forward<F>(f)(float{}); return;
    case ElemType::BF16: std::forward<F>(f)(bf16{}); return;
    default: AXF_FAIL(what, ": tensors must be fp32 or bf16, got ", elem_type_name(t));
  }
}

// Two nested dispatches: f(A{}, B{}).
template <class F>
void dispatch_float_types(ElemType a, ElemType b, const char* what, F&& f) {
  dispatch_float_type(a, what, [&](auto ta) {
    dispatch_float_type(b, what, [&](auto tb) { f(ta, tb); });
  });
}

}  // namespace axf::kernels
