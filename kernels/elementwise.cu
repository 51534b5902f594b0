#include "kernels/elementwise.cuh"

#include "backend/cuda/cuda_check.h"
#include "kernels/rows_device.cuh"

namespace axf::kernels {

namespace {

// Rows longer than this are split into several work items, so a single long row still spreads over the GPU.
constexpr int64_t kChunkCols = 1024;

__global__ void __launch_bounds__(kRowBlock) elementwise_kernel(const ElementwiseParams p, int group,
                                                                int64_t chunks) {
  const GroupIndex g = group_index(group);
  const int64_t cols = p.dst_rows.cols;
  const int64_t items = p.dst_rows.rows * chunks;
  for (int64_t base = g.base; base < items; base += g.step) {
    const int64_t item = base + g.sub;
    if (item >= items) continue;
    int64_t r = item, c0 = 0;
    if (chunks > 1) {
      r = item / chunks;
      c0 = (item - r * chunks) * kChunkCols;
    }
    const int64_t c1 = min(cols, c0 + kChunkCols);
    float* d = p.dst + row_offset(p.dst_rows, r);
    switch (p.op) {
      case ElementwiseOp::Add: {
        const float* s = p.src + row_offset(p.src_rows, r);
        for (int64_t c = c0 + g.lane; c < c1; c += group) d[c] += s[c];
        break;
      }
      case ElementwiseOp::SigmoidMul: {
        const float* s = p.src + row_offset(p.src_rows, r);
        for (int64_t c = c0 + g.lane; c < c1; c += group) d[c] *= sigmoidf_ref(s[c]);
        break;
      }
      case ElementwiseOp::MulRows: {
        const float scale = p.src[row_offset(p.src_rows, r)];
        for (int64_t c = c0 + g.lane; c < c1; c += group) d[c] *= scale;
        break;
      }
      case ElementwiseOp::Relu:
        for (int64_t c = c0 + g.lane; c < c1; c += group) d[c] = d[c] > 0.f ? d[c] : 0.f;
        break;
      case ElementwiseOp::Fill:
        for (int64_t c = c0 + g.lane; c < c1; c += group) d[c] = p.value;
        break;
    }
  }
}

}  // namespace

void launch_elementwise(const ElementwiseParams& p, cudaStream_t stream) {
  const int64_t rows = p.dst_rows.rows, cols = p.dst_rows.cols;
  if (rows == 0 || cols == 0) return;
  const int group = row_group_size(cols);
  const int64_t chunks = (cols + kChunkCols - 1) / kChunkCols;
  elementwise_kernel<<<row_grid(rows * chunks, group), kRowBlock, 0, stream>>>(p, group, chunks);
  AXF_CUDA_CHECK_LAUNCH("elementwise_kernel");
}

}  // namespace axf::kernels
