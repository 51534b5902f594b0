#include "kernels/softmax_expectations.cuh"

#include "backend/cuda/cuda_check.h"
#include "kernels/rows_device.cuh"

namespace axf::kernels {

namespace {

template <int V>
__global__ void __launch_bounds__(kRowBlock) softmax_expectations_kernel(const SoftmaxExpectationParams p, int group) {
  const GroupIndex g = group_index(group);
  const int64_t rows = p.logits_rows.rows;
  const int bins = static_cast<int>(p.logits_rows.cols);
  for (int64_t base = g.base; base < rows; base += g.step) {
    const int64_t r = base + g.sub;
    const bool active = r < rows;
    const float* x = p.logits + (active ? row_offset(p.logits_rows, r) : 0);
    float m = -INFINITY;
    if (active)
      for (int b = g.lane; b < bins; b += group) m = fmaxf(m, x[b]);
    m = group_max(m, group);
    float z = 0.f, acc[V] = {};
    if (active)
      for (int b = g.lane; b < bins; b += group) {
        const float e = expf(x[b] - m);
        z += e;
#pragma unroll
        for (int v = 0; v < V; ++v) acc[v] = fmaf(e, p.values[v * bins + b], acc[v]);
      }
    z = group_sum(z, group);
#pragma unroll
    for (int v = 0; v < V; ++v) acc[v] = group_sum(acc[v], group);
    if (active && g.lane == 0) {
      float* o = p.out + row_offset(p.out_rows, r);
#pragma unroll
      for (int v = 0; v < V; ++v) o[v] = acc[v] / z;
    }
  }
}

template <int V>
void launch(const SoftmaxExpectationParams& p, int group, cudaStream_t stream) {
  softmax_expectations_kernel<V><<<row_grid(p.logits_rows.rows, group), kRowBlock, 0, stream>>>(p, group);
}

}  // namespace

void launch_softmax_expectations(const SoftmaxExpectationParams& p, cudaStream_t stream) {
  if (p.logits_rows.rows == 0) return;
  AXF_CHECK(p.V >= 1 && p.V <= SoftmaxExpectationParams::kMaxExpectations && p.logits_rows.cols >= 1 &&
                p.logits_rows.cols <= 0x7fffffff,
            "softmax_expectations: ", p.V, " expectations over ", p.logits_rows.cols, " bins");
  const int group = row_group_size(p.logits_rows.cols);
  switch (p.V) {
    case 1: launch<1>(p, group, stream); break;
    case 2: launch<2>(p, group, stream); break;
    case 3: launch<3>(p, group, stream); break;
    default: launch<4>(p, group, stream); break;
  }
  AXF_CUDA_CHECK_LAUNCH("softmax_expectations_kernel");
}

}  // namespace axf::kernels
