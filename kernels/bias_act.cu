#include "kernels/bias_act.cuh"

#include "backend/cuda/cuda_check.h"
#include "kernels/elem_io.cuh"
#include "kernels/rows_device.cuh"

namespace axf::kernels {

namespace {

__device__ __forceinline__ float activate(float v, Act a) {
  switch (a) {
    case Act::None: return v;
    case Act::Relu: return v > 0.f ? v : 0.f;
    case Act::Sigmoid: return sigmoidf_ref(v);
  }
  return v;
}

template <class TO>
__global__ void __launch_bounds__(kRowBlock) bias_act_kernel(const BiasActParams p, int group) {
  TO* outs = static_cast<TO*>(p.out);
  const GroupIndex g = group_index(group);
  const int64_t rows = p.out_rows.rows, cols = p.out_rows.cols;
  for (int64_t base = g.base; base < rows; base += g.step) {
    const int64_t r = base + g.sub;
    if (r >= rows) continue;
    TO* o = outs + row_offset(p.out_rows, r);
    const float* s = p.src ? p.src + r * p.src_ld : nullptr;
    for (int64_t c = g.lane; c < cols; c += group) {
      const float v = activate((s ? s[c] : ld(o + c)) + (p.bias ? p.bias[c] : 0.f), p.act);
      st(o + c, (s && p.accumulate) ? ld(o + c) + v : v);
    }
  }
}

// Packets of 8 elements (for_each_packet): 16-byte accesses of out, src and bias, and one row offset per packet.
template <class TO>
__global__ void __launch_bounds__(kRowBlock) bias_act_packets(const BiasActParams p) {
  TO* outs = static_cast<TO*>(p.out);
  for_each_packet(p.out_rows.rows, p.out_rows.cols, [&](int64_t r, int64_t c) {
    TO* o = outs + row_offset(p.out_rows, r) + c;
    float v[kPacket], b[kPacket];
    if (p.src) {
      ld8(p.src + r * p.src_ld + c, v);
    } else {
      ld8(o, v);
    }
    if (p.bias) {
      ld8(p.bias + c, b);
    } else {
#pragma unroll
      for (int e = 0; e < kPacket; ++e) b[e] = 0.f;
    }
    float prev[kPacket];
    const bool acc = p.src && p.accumulate;
    if (acc) ld8(o, prev);
#pragma unroll
    for (int e = 0; e < kPacket; ++e) {
      const float x = activate(v[e] + b[e], p.act);
      v[e] = acc ? prev[e] + x : x;
    }
    st8(o, v);
  });
}

}  // namespace

void launch_bias_act(const BiasActParams& p, cudaStream_t stream) {
  const int64_t rows = p.out_rows.rows, cols = p.out_rows.cols;
  if (rows == 0 || cols == 0) return;
  const bool use_packets = packets_fit(p.out_rows, p.out) && (!p.bias || aligned(p.bias, 16)) &&
                           (!p.src || (aligned(p.src, 16) && p.src_ld % kPacket == 0));
  const int group = row_group_size(cols);
  dispatch_float_type(p.out_type, "linear epilogue", [&](auto to) {
    if (use_packets) {
      bias_act_packets<decltype(to)><<<row_grid(rows * (cols / kPacket), 1), kRowBlock, 0, stream>>>(p);
    } else {
      bias_act_kernel<decltype(to)><<<row_grid(rows, group), kRowBlock, 0, stream>>>(p, group);
    }
  });
  AXF_CUDA_CHECK_LAUNCH("bias_act_kernel");
}

}  // namespace axf::kernels
