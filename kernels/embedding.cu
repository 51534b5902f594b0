#include "kernels/embedding.cuh"

#include "backend/cuda/cuda_check.h"
#include "kernels/elem_io.cuh"
#include "kernels/rows_device.cuh"

namespace axf::kernels {

namespace {

template <class TT, class TO>
__global__ void __launch_bounds__(kRowBlock) embedding_kernel(const EmbeddingParams p, int group) {
  const TT* table = static_cast<const TT*>(p.table);
  TO* outs = static_cast<TO*>(p.out);
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
    TO* o = outs + row_offset(p.out_rows, r);
    if (id < 0) {
      if (!p.accumulate)
        for (int64_t c = g.lane; c < cols; c += group) st(o + c, 0.f);
      continue;
    }
    const TT* t = table + row_offset(p.table_rows, id);
    if (p.accumulate) {
      for (int64_t c = g.lane; c < cols; c += group) st(o + c, ld(o + c) + ld(t + c));
    } else {
      for (int64_t c = g.lane; c < cols; c += group) st(o + c, ld(t + c));
    }
  }
}

}  // namespace

void launch_embedding(const EmbeddingParams& p, cudaStream_t stream) {
  const int64_t rows = p.out_rows.rows, cols = p.out_rows.cols;
  if (rows == 0 || cols == 0) return;
  const int group = row_group_size(cols);
  dispatch_float_types(p.table_type, p.out_type, "embedding", [&](auto tt, auto to) {
    embedding_kernel<decltype(tt), decltype(to)><<<row_grid(rows, group), kRowBlock, 0, stream>>>(p, group);
  });
  AXF_CUDA_CHECK_LAUNCH("embedding_kernel");
}

}  // namespace axf::kernels
