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

}  // namespace

void launch_bias_act(const BiasActParams& p, cudaStream_t stream) {
  const int64_t rows = p.out_rows.rows, cols = p.out_rows.cols;
  if (rows == 0 || cols == 0) return;
  const int group = row_group_size(cols);
  dispatch_float_type(p.out_type, "linear epilogue", [&](auto to) {
    bias_act_kernel<decltype(to)><<<row_grid(rows, group), kRowBlock, 0, stream>>>(p, group);
  });
  AXF_CUDA_CHECK_LAUNCH("bias_act_kernel");
}

}  // namespace axf::kernels
