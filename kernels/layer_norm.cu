#include "kernels/layer_norm.cuh"

#include "backend/cuda/cuda_check.h"
#include "kernels/elem_io.cuh"
#include "kernels/rows_device.cuh"

namespace axf::kernels {

namespace {

// A row's statistics from the values its lanes hold (zeros outside the row; in(i) says whether v[i] belongs to it):
// the mean, then the variance of x - mean from the registers (exact two-pass statistics without a second read), as
// 1 / sqrt(var + eps). Every lane of the group calls it (the reductions are group shuffles).
template <int N, class In>
__device__ __forceinline__ void row_statistics(const float (&v)[N], In in, int group, float n, float eps,
                                               float& mean, float& inv) {
  float sum = 0.f;
#pragma unroll
  for (int i = 0; i < N; ++i) sum += v[i];
  mean = group_sum(sum, group) / n;
  float sq = 0.f;
#pragma unroll
  for (int i = 0; i < N; ++i) {
    const float d = in(i) ? v[i] - mean : 0.f;
    sq += d * d;
  }
  const float var = group_sum(sq, group) / n;
  inv = 1.0f / sqrtf(var + eps);
}

// Rows that fit in registers: lane l holds elements l, l + group, ... (coalesced), read once (row_statistics).
// Every lane of a warp runs the same iterations so the group reductions stay convergent.
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
    const TX* x = active ? xs + row_offset(p.x_rows, r) : xs;
#pragma unroll
    for (int k = 0; k < PER; ++k) {
      const int c = g.lane + k * group;
      v[k] = (active && c < cols) ? ld(x + c) : 0.f;
    }
    float mean, inv;
    row_statistics(v, [&](int k) { return g.lane + k * group < cols; }, group, n, p.eps, mean, inv);
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

// Rows in 16-byte packets (the usual case: dense rows whose length is a multiple of 8): lane l of a row's group
// holds packets l, l + group, ... of 8 consecutive elements, so each access of a group covers group * 16
// contiguous bytes (bf16); otherwise as layer_norm_registers.
template <class TX, class TO, int PPL>
__global__ void __launch_bounds__(kRowBlock) layer_norm_packets(const LayerNormParams p, int group) {
  const GroupIndex g = group_index(group);
  const int64_t rows = p.x_rows.rows;
  const int cols = static_cast<int>(p.x_rows.cols);
  const float n = static_cast<float>(cols);
  const TX* xs = static_cast<const TX*>(p.x);
  TO* outs = static_cast<TO*>(p.out);
  for (int64_t base = g.base; base < rows; base += g.step) {
    const int64_t r = base + g.sub;
    const bool active = r < rows;
    float v[PPL][kPacket];
    const TX* x = active ? xs + row_offset(p.x_rows, r) : xs;
#pragma unroll
    for (int k = 0; k < PPL; ++k) {
      const int c = (g.lane + k * group) * kPacket;
      if (active && c < cols) {
        ld8(x + c, v[k]);
      } else {
#pragma unroll
        for (int e = 0; e < kPacket; ++e) v[k][e] = 0.f;
      }
    }
    float mean, inv;
    row_statistics(reinterpret_cast<const float(&)[PPL * kPacket]>(v),
                   [&](int i) { return (g.lane + i / kPacket * group) * kPacket < cols; }, group, n, p.eps, mean,
                   inv);
    if (active) {
      TO* o = outs + row_offset(p.out_rows, r);
#pragma unroll
      for (int k = 0; k < PPL; ++k) {
        const int c = (g.lane + k * group) * kPacket;
        if (c >= cols) continue;
        float sc[kPacket], of[kPacket], y[kPacket];
        ld8(p.scale + c, sc);
        ld8(p.offset + c, of);
#pragma unroll
        for (int e = 0; e < kPacket; ++e) y[e] = ((v[k][e] - mean) * inv) * sc[e] + of[e];
        st8(o + c, y);
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
  // Packets: rows of 8 .. 1024 elements whose x, out, scale and offset all allow 16-byte accesses.
  const int64_t packets = cols / kPacket;
  // As few lanes per row as hold it in at most 4 packets each: more bytes in flight per thread, and the row's
  // statistics take fewer shuffles (bf16 [L*L, 128]: 4 lanes, 93% of copy against 63% with 16 lanes; H100).
  const int packet_group = row_group_size((packets + 3) / 4);
  const int64_t packets_per_lane = (packets + packet_group - 1) / packet_group;
  const bool use_packets = packets_fit(p.x_rows, p.x) && packets_fit(p.out_rows, p.out) &&
                           aligned(p.scale, 16) && aligned(p.offset, 16) && packets_per_lane <= 4;
  dispatch_float_types(p.x_type, p.out_type, "layer_norm", [&](auto tx, auto to) {
    using TX = decltype(tx);
    using TO = decltype(to);
    if (use_packets) {
      const unsigned grid = row_grid(rows, packet_group);
      if (packets_per_lane <= 1) {
        layer_norm_packets<TX, TO, 1><<<grid, kRowBlock, 0, stream>>>(p, packet_group);
      } else if (packets_per_lane <= 2) {
        layer_norm_packets<TX, TO, 2><<<grid, kRowBlock, 0, stream>>>(p, packet_group);
      } else {
        layer_norm_packets<TX, TO, 4><<<grid, kRowBlock, 0, stream>>>(p, packet_group);
      }
    } else if (per_lane <= 1) {
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
