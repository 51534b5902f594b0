// Typed loads and stores for kernels whose tensors are fp32 or bf16 (the trunk's activation dtypes): arithmetic
// is always fp32; bf16 values are widened on load and rounded to nearest even on store (the same bits as
// core::float_to_bf16). dispatch_float_type turns a run-time ElemType into a template argument on the host.
#pragma once

#include <cuda_bf16.h>

#include <cstdint>
#include <utility>

#include "core/error.h"
#include "kernels/copy.cuh"
#include "kernels/rows.cuh"

namespace axf::kernels {

using bf16 = __nv_bfloat16;

__device__ __forceinline__ float ld(const float* p) { return *p; }
__device__ __forceinline__ float ld(const bf16* p) { return __bfloat162float(*p); }
__device__ __forceinline__ void st(float* p, float v) { *p = v; }
__device__ __forceinline__ void st(bf16* p, float v) { *p = __float2bfloat16_rn(v); }

// Packets of kPacket (8) consecutive elements, rows.cuh: one 16-byte access for bf16, two for fp32. The address
// must be 16-byte aligned (packets_fit checks a layout on the host).

__device__ __forceinline__ void ld8(const float* p, float (&v)[kPacket]) {
  const float4 a = *reinterpret_cast<const float4*>(p), b = *reinterpret_cast<const float4*>(p + 4);
  v[0] = a.x, v[1] = a.y, v[2] = a.z, v[3] = a.w, v[4] = b.x, v[5] = b.y, v[6] = b.z, v[7] = b.w;
}
__device__ __forceinline__ void ld8(const bf16* p, float (&v)[kPacket]) {
  const uint4 u = *reinterpret_cast<const uint4*>(p);
  const uint32_t w[4] = {u.x, u.y, u.z, u.w};
#pragma unroll
  for (int i = 0; i < 4; ++i) {
    v[2 * i] = __uint_as_float(w[i] << 16);
    v[2 * i + 1] = __uint_as_float(w[i] & 0xffff0000u);
  }
}
__device__ __forceinline__ void st8(float* p, const float (&v)[kPacket]) {
  *reinterpret_cast<float4*>(p) = make_float4(v[0], v[1], v[2], v[3]);
  *reinterpret_cast<float4*>(p + 4) = make_float4(v[4], v[5], v[6], v[7]);
}
__device__ __forceinline__ void st8(bf16* p, const float (&v)[kPacket]) {
  uint32_t w[4];
#pragma unroll
  for (int i = 0; i < 4; ++i) {
    w[i] = uint32_t{__bfloat16_as_ushort(__float2bfloat16_rn(v[2 * i]))} |
           (uint32_t{__bfloat16_as_ushort(__float2bfloat16_rn(v[2 * i + 1]))} << 16);
  }
  *reinterpret_cast<uint4*>(p) = make_uint4(w[0], w[1], w[2], w[3]);
}

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
