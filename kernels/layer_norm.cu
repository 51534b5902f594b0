#include "kernels/layer_norm.cuh"

#include "backend/cuda/cuda_check.h"
#include "kernels/rows_device.cuh"

namespace axf::kernels {

namespace {

// Two passes over the row (mean, then the variance of x - mean) for accuracy; the row stays in L1/L2 between
// passes. Every lane of a warp runs the same iterations so the group reductions stay convergent.
__global__ void __launch_bounds__(kRowBlock) layer_norm_kernel(const LayerNormParams p, int group) {
  const GroupIndex g = group_index(group);
  const int64_t rows = p.x_rows.rows, cols = p.x_rows.cols;
  const float n = static_cast<float>(cols);
  for (int64_t base = g.base; base < rows; base += g.step) {
    const int64_t r = base + g.sub;
    const bool active = r < rows;
    const float* x = active ? p.x + row_offset(p.x_rows, r) : p.x;
    float sum = 0.f;
    if (active)
      for (int64_t c = g.lane; c < cols; c += group) sum += x[c];
    const float mean = group_sum(sum, group) / n;
    float sq = 0.f;
    if (active)
      for (int64_t c = g.lane; c < cols; c += group) {
        const float d = x[c] - mean;
        sq += d * d;
      }
    const float var = group_sum(sq, group) / n;
    const float inv = 1.0f / sqrtf(var + p.eps);
    if (active) {
      float* o = p.out + row_offset(p.out_rows, r);
      for (int64_t c = g.lane; c < cols; c += group) o[c] = ((x[c] - mean) * inv) * p.scale[c] + p.offset[c];
    }
  }
}

}  // namespace

void launch_layer_norm(const LayerNormParams& p, cudaStream_t stream) {
  const int64_t rows = p.x_rows.rows, cols = p.x_rows.cols;
  if (rows == 0 || cols == 0) return;
  const int group = row_group_size(cols);
  layer_norm_kernel<<<row_grid(rows, group), kRowBlock, 0, stream>>>(p, group);
  AXF_CUDA_CHECK_LAUNCH("layer_norm_kernel");
}

}  // namespace axf::kernels
