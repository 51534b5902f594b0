#include "kernels/softmax.cuh"

#include "backend/cuda/cuda_check.h"
#include "kernels/rows.cuh"
#include "kernels/rows_device.cuh"

namespace axf::kernels {

namespace {

__global__ void __launch_bounds__(kRowBlock) softmax_kernel(const SoftmaxParams p, int group) {
  const GroupIndex g = group_index(group);
  const int64_t rows = p.nb * p.H * p.Qc, K = p.K;
  for (int64_t base = g.base; base < rows; base += g.step) {
    const int64_t r = base + g.sub;
    const bool active = r < rows;
    float* row = p.logits + (active ? r : 0) * K;
    float mx = -INFINITY;
    if (active) {
      const int64_t q = r % p.Qc, bh = r / p.Qc;
      const int64_t h = bh % p.H, b = bh / p.H;
      const float* brow = p.bias ? p.bias + h * p.bias_s0 + q * p.bias_s1 : nullptr;
      const float* mrow = p.mask ? p.mask + b * p.mask_sb : nullptr;
      for (int64_t k = g.lane; k < K; k += group) {
        float v = row[k];
        if (brow) v += brow[k * p.bias_s2];
        if (mrow && mrow[k * p.mask_sk] == 0.f) v = -1e9f;
        row[k] = v;
        mx = fmaxf(mx, v);
      }
    }
    mx = group_max(mx, group);
    float sum = 0.f;
    if (active)
      for (int64_t k = g.lane; k < K; k += group) {
        const float e = expf(row[k] - mx);
        row[k] = e;
        sum += e;
      }
    sum = group_sum(sum, group);
    const float inv = 1.0f / sum;
    if (active)
      for (int64_t k = g.lane; k < K; k += group) row[k] *= inv;
  }
}

}  // namespace

void launch_softmax(const SoftmaxParams& p, cudaStream_t stream) {
  const int64_t rows = p.nb * p.H * p.Qc;
  if (rows == 0 || p.K == 0) return;
  const int group = row_group_size(p.K);
  softmax_kernel<<<row_grid(rows, group), kRowBlock, 0, stream>>>(p, group);
  AXF_CUDA_CHECK_LAUNCH("softmax_kernel");
}

}  // namespace axf::kernels
