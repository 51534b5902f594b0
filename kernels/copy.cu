#include "kernels/copy.cuh"

#include <algorithm>
#include <type_traits>

#include "backend/cuda/cuda_check.h"
#include "core/half_precision.h"
#include "kernels/elem_io.cuh"
#include "kernels/rows.cuh"

namespace axf::kernels {

namespace {

__device__ __forceinline__ float load_float(const void* base, int64_t i, ElemType t) {
  switch (t) {
    case ElemType::F32: return static_cast<const float*>(base)[i];
    case ElemType::BF16: return core::bf16_to_float(static_cast<const uint16_t*>(base)[i]);
    case ElemType::F16: return core::fp16_to_float(static_cast<const uint16_t*>(base)[i]);
    case ElemType::I32: return static_cast<float>(static_cast<const int32_t*>(base)[i]);
  }
  return 0.f;
}

__device__ __forceinline__ void store_float(void* base, int64_t i, ElemType t, float v) {
  switch (t) {
    case ElemType::F32: static_cast<float*>(base)[i] = v; break;
    case ElemType::BF16: static_cast<uint16_t*>(base)[i] = core::float_to_bf16(v); break;
    case ElemType::F16: static_cast<uint16_t*>(base)[i] = core::float_to_fp16(v); break;
    case ElemType::I32: static_cast<int32_t*>(base)[i] = static_cast<int32_t>(v); break;
  }
}

constexpr int kCopyBlock = 256;

// Element offsets in the source and destination of item i, the innermost dim counted in units of Unit elements
// (1: elements, kPacket: packets), outer dims in elements; 32-bit division when the item count allows.
template <int Unit>
__device__ __forceinline__ void item_offsets(const CopyParams& p, int64_t i, bool small, int64_t* s, int64_t* d) {
  const int inner = p.nd - 1;
  *s = 0, *d = 0;
  if (small) {
    uint32_t rest = static_cast<uint32_t>(i);
    for (int k = inner; k >= 0; --k) {
      const uint32_t n = static_cast<uint32_t>(k == inner ? p.shape[k] / Unit : p.shape[k]);
      const uint32_t q = rest / n;
      const int64_t idx = static_cast<int64_t>(rest - q * n) * (k == inner ? Unit : 1);
      *s += idx * p.src_stride[k];
      *d += idx * p.dst_stride[k];
      rest = q;
    }
  } else {
    int64_t rest = i;
    for (int k = inner; k >= 0; --k) {
      const int64_t n = k == inner ? p.shape[k] / Unit : p.shape[k];
      const int64_t q = rest / n;
      const int64_t idx = (rest - q * n) * (k == inner ? Unit : 1);
      *s += idx * p.src_stride[k];
      *d += idx * p.dst_stride[k];
      rest = q;
    }
  }
}

// One thread per element, grid-stride. The innermost dim moves fastest, so consecutive threads touch neighbouring
// elements of whichever tensor is dense there.
__global__ void __launch_bounds__(kCopyBlock) copy_kernel(const CopyParams p, int64_t numel) {
  const bool small = numel <= 0xffffffffll;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < numel;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    int64_t s = 0, d = 0;
    item_offsets<1>(p, i, small, &s, &d);
    if (p.src_type == p.dst_type) {
      if (p.src_type == ElemType::BF16 || p.src_type == ElemType::F16)
        static_cast<uint16_t*>(p.dst)[d] = static_cast<const uint16_t*>(p.src)[s];
      else  // same-size raw move keeps int32 values exact
        static_cast<uint32_t*>(p.dst)[d] = static_cast<const uint32_t*>(p.src)[s];
    } else {
      store_float(p.dst, d, p.dst_type, load_float(p.src, s, p.src_type));
    }
  }
}

// Views whose innermost merged dim is dense in both tensors, a multiple of kPacket long and 16-byte aligned (the
// usual case: permuted leading dims of a [..., C] tensor, slices): one packet of 8 elements per thread, moved as
// raw 16-byte words when the types agree, else widened and rounded as copy_kernel does.
template <class TS, class TD>
__global__ void __launch_bounds__(kCopyBlock) copy_packets(const CopyParams p, int64_t packets) {
  const bool small = packets <= 0xffffffffll;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < packets;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    int64_t s = 0, d = 0;
    item_offsets<kPacket>(p, i, small, &s, &d);
    const TS* src = static_cast<const TS*>(p.src) + s;
    TD* dst = static_cast<TD*>(p.dst) + d;
    if constexpr (std::is_same_v<TS, TD>) {
      constexpr int kWords = sizeof(TS) * kPacket / 16;
#pragma unroll
      for (int w = 0; w < kWords; ++w) reinterpret_cast<uint4*>(dst)[w] = reinterpret_cast<const uint4*>(src)[w];
    } else {
      float v[kPacket];
      ld8(src, v);
      st8(dst, v);
    }
  }
}

bool is_float_type(ElemType t) { return t == ElemType::F32 || t == ElemType::BF16; }

}  // namespace

void launch_copy(int ndim, const int64_t* shape, const int64_t* src_stride, const int64_t* dst_stride,
                 const void* src, ElemType src_type, void* dst, ElemType dst_type, cudaStream_t stream) {
  AXF_CHECK(ndim <= kMaxCopyDims, "copy: rank ", ndim, " exceeds ", kMaxCopyDims);
  CopyParams p;
  p.src = src;
  p.dst = dst;
  p.src_type = src_type;
  p.dst_type = dst_type;
  int64_t numel = 1;
  // Outermost to innermost; a dim merges into the previous kept one when both tensors step over it evenly.
  for (int k = 0; k < ndim; ++k) {
    numel *= shape[k];
    if (shape[k] == 1) continue;
    if (p.nd > 0 && p.src_stride[p.nd - 1] == src_stride[k] * shape[k] &&
        p.dst_stride[p.nd - 1] == dst_stride[k] * shape[k]) {
      p.shape[p.nd - 1] *= shape[k];
      p.src_stride[p.nd - 1] = src_stride[k];
      p.dst_stride[p.nd - 1] = dst_stride[k];
      continue;
    }
    p.shape[p.nd] = shape[k];
    p.src_stride[p.nd] = src_stride[k];
    p.dst_stride[p.nd] = dst_stride[k];
    ++p.nd;
  }
  if (numel == 0) return;
  // Packets when both views are rows (the innermost merged dim dense) that packets_fit would accept.
  const int inner = p.nd - 1;
  const bool packets = p.nd > 0 && is_float_type(src_type) && is_float_type(dst_type) && p.src_stride[inner] == 1 &&
                       p.dst_stride[inner] == 1 && p.shape[inner] % kPacket == 0 && aligned(src, 16) &&
                       aligned(dst, 16) && leading_strides_fit_packets(inner, p.shape, p.src_stride) &&
                       leading_strides_fit_packets(inner, p.shape, p.dst_stride);
  if (packets) {
    const int64_t n = numel / kPacket;
    const auto blocks = static_cast<unsigned>(std::min<int64_t>((n + kCopyBlock - 1) / kCopyBlock, 1 << 20));
    dispatch_float_types(src_type, dst_type, "copy", [&](auto ts, auto td) {
      copy_packets<decltype(ts), decltype(td)><<<blocks, kCopyBlock, 0, stream>>>(p, n);
    });
    AXF_CUDA_CHECK_LAUNCH("copy_packets");
    return;
  }
  int64_t blocks = (numel + kCopyBlock - 1) / kCopyBlock;
  if (blocks > (1 << 20)) blocks = 1 << 20;
  copy_kernel<<<static_cast<unsigned>(blocks), kCopyBlock, 0, stream>>>(p, numel);
  AXF_CUDA_CHECK_LAUNCH("copy_kernel");
}

}  // namespace axf::kernels
