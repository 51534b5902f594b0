#include "kernels/layer_norm.cuh"

#include "backend/cuda/cuda_check.h"
#include "kernels/elem_io.cuh"
#include "kernels/rows_device.cuh"

namespace axf::kernels {

namespace {

// Rows that fit in registers: lane l holds elements l, l + group, ... (coalesced), read once; mean, then the
// variance of x - mean from the registers (exact two-pass statistics without a second read). Every lane of a
// warp runs the same iterations so the group reductions stay convergent.
template <class TX, class TO, int PER>
__global__ void __launch_bounds__(kRowBlock) layer_norm_registers(const LayerNormParams p, int group) {
  const GroupIndex g = group_index(group);
  const int64_t rows = p.x_rows.rows;
  const int cols = static_cast<int>(p.x_rows.cols);
  const float n = static_cast<float>(cols);
  const TX* xs = static_cast<const TX*>(p.x);
  TO* outs = static_cast<TO*>(p.out);
  float sc[PER], of[PER];
#pragma unroll
  for (int k = 0; k < PER; ++k) {
    const int c = g.lane + k * group;
    sc[k] = c < cols ? p.scale[c] : 0.f;
    of[k] = c < cols ? p.offset[c] : 0.f;
  }
  for (int64_t base = g.base; base < rows; base += g.step) {
    const int64_t r = base + g.sub;
    const bool active = r < rows;
    float v[PER];
    float sum = 0.f;
    const TX* x = active ? xs + row_offset(p.x_rows, r) : xs;
#pragma unroll
    for (int k = 0; k < PER; ++k) {
      const int c = g.lane + k * group;
      v[k] = (active && c < cols) ? ld(x + c) : 0.f;
      sum += v[k];
    }
    const float mean = group_sum(sum, group) / n;
    float sq = 0.f;
#pragma unroll
    for (int k = 0; k < PER; ++k) {
      const int c = g.lane + k * group;
      const float d = c < cols ? v[k] - mean : 0.f;
      sq += d * d;
    }
    const float var = group_sum(sq, group) / n;
    const float inv = 1.0f / sqrtf(var + p.eps);
    if (active) {
      TO* o = outs + row_offset(p.out_rows, r);
#pragma unroll
      for (int k = 0; k < PER; ++k) {
        const int c = g.lane + k * group;
        if (c < cols) st(o + c, ((v[k] - mean) * inv) * sc[k] + of[k]);
      }
    }
  }
}

// Any row length: two passes over the row (mean, then the variance of x - mean); the row stays in L1/L2.
template <class TX, class TO>
__global__ void __launch_bounds__(kRowBlock) layer_norm_rows(const LayerNormParams p, int group) {
  const GroupIndex g = group_index(group);
  const int64_t rows = p.x_rows.rows, cols = p.x_rows.cols;
  const float n = static_cast<float>(cols);
  const TX* xs = static_cast<const TX*>(p.x);
  TO* outs = static_cast<TO*>(p.out);
  for (int64_t base = g.base; base < rows; base += g.step) {
    const int64_t r = base + g.sub;
    const bool active = r < rows;
    const TX* x = active ? xs + row_offset(p.x_rows, r) : xs;
    float sum = 0.f;
    if (active)
      for (int64_t c = g.lane; c < cols; c += group) sum += ld(x + c);
    const float mean = group_sum(sum, group) / n;
    float sq = 0.f;
    if (active)
      for (int64_t c = g.lane; c < cols; c += group) {
        const float d = ld(x + c) - mean;
        sq += d * d;
      }
    const float var = group_sum(sq, group) / n;
    const float inv = 1.0f / sqrtf(var + p.eps);
    if (active) {
      TO* o = outs + row_offset(p.out_rows, r);
      for (int64_t c = g.lane; c < cols; c += group) st(o + c, ((ld(x + c) - mean) * inv) * p.scale[c] + p.offset[c]);
    }
  }
}

template <class TX, class TO, int PER>
void launch_registers(const LayerNormParams& p, int group, cudaStream_t stream) {
  layer_norm_registers<TX, TO, PER><<<row_grid(p.x_rows.rows, group), kRowBlock, 0, stream>>>(p, group);
}

}  // namespace

void launch_layer_norm(const LayerNormParams& p, cudaStream_t stream) {
  const int64_t rows = p.x_rows.rows, cols = p.x_rows.cols;
  if (rows == 0 || cols == 0) return;
  const int group = row_group_size(cols);
  const int64_t per_lane = (cols + group - 1) / group;
  dispatch_float_types(p.x_type, p.out_type, "layer_norm", [&](auto tx, auto to) {
    using TX = decltype(tx);
    using TO = decltype(to);
    if (per_lane <= 1) {
      launch_registers<TX, TO, 1>(p, group, stream);
    } else if (per_lane <= 4) {
      launch_registers<TX, TO, 4>(p, group, stream);
    } else if (per_lane <= 8) {
      launch_registers<TX, TO, 8>(p, group, stream);
    } else if (per_lane <= kLayerNormMaxPerLane) {
      launch_registers<TX, TO, kLayerNormMaxPerLane>(p, group, stream);
    } else {
      layer_norm_rows<TX, TO><<<row_grid(rows, group), kRowBlock, 0, stream>>>(p, group);
    }
  });
  AXF_CUDA_CHECK_LAUNCH("layer_norm_kernel");
}

}  // namespace axf::kernels
