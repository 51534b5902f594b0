#include "kernels/embedding.cuh"

#include "backend/cuda/cuda_check.h"
#include "kernels/rows_device.cuh"

namespace axf::kernels {

namespace {

__global__ void __launch_bounds__(kRowBlock) embedding_kernel(const EmbeddingParams p, int group) {
  const GroupIndex g = group_index(group);
  const int64_t rows = p.out_rows.rows, cols = p.out_rows.cols;
  for (int64_t base = g.base; base < rows; base += g.step) {
    const int64_t r = base + g.sub;
    if (r >= rows) continue;
    const int32_t id = p.index[r];
    if (id >= p.table_rows.rows) {
      if (g.lane == 0) *p.bad_index = 1;
      continue;
    }
    float* o = p.out + row_offset(p.out_rows, r);
    if (id < 0) {
      if (!p.accumulate)
        for (int64_t c = g.lane; c < cols; c += group) o[c] = 0.f;
      continue;
    }
    const float* t = p.table + row_offset(p.table_rows, id);
    if (p.accumulate) {
      for (int64_t c = g.lane; c < cols; c += group) o[c] += t[c];
    } else {
      for (int64_t c = g.lane; c < cols; c += group) o[c] = t[c];
    }
  }
}

}  // namespace

void launch_embedding(const EmbeddingParams& p, cudaStream_t stream) {
  const int64_t rows = p.out_rows.rows, cols = p.out_rows.cols;
  if (rows == 0 || cols == 0) return;
  const int group = row_group_size(cols);
  embedding_kernel<<<row_grid(rows, group), kRowBlock, 0, stream>>>(p, group);
  AXF_CUDA_CHECK_LAUNCH("embedding_kernel");
}

}  // namespace axf::kernels
