#include "kernels/elementwise.cuh"

#include "backend/cuda/cuda_check.h"
#include "kernels/elem_io.cuh"
#include "kernels/rows_device.cuh"

namespace axf::kernels {

namespace {

// Rows longer than this are split into several work items, so a single long row still spreads over the GPU.
constexpr int64_t kChunkCols = 1024;

template <class TD, class TS, class TG>
__global__ void __launch_bounds__(kRowBlock) elementwise_kernel(const ElementwiseParams p, int group,
                                                                int64_t chunks) {
  TD* dst = static_cast<TD*>(p.dst);
  const TS* src = static_cast<const TS*>(p.src);
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
    TD* d = dst + row_offset(p.dst_rows, r);
    switch (p.op) {
      case ElementwiseOp::Add: {
        const TS* s = src + row_offset(p.src_rows, r);
        for (int64_t c = c0 + g.lane; c < c1; c += group) st(d + c, ld(d + c) + ld(s + c));
        break;
      }
      case ElementwiseOp::SigmoidMul: {
        const TS* s = src + row_offset(p.src_rows, r);
        for (int64_t c = c0 + g.lane; c < c1; c += group) st(d + c, ld(d + c) * sigmoidf_ref(ld(s + c)));
        break;
      }
      case ElementwiseOp::GatedAdd: {
        const TS* s = src + row_offset(p.src_rows, r);
        const TG* gt = static_cast<const TG*>(p.gate) + row_offset(p.gate_rows, r);
        for (int64_t c = c0 + g.lane; c < c1; c += group)
          st(d + c, ld(d + c) + ld(s + c) * sigmoidf_ref(ld(gt + c)));
        break;
      }
      case ElementwiseOp::MulRows: {
        const float scale = ld(src + row_offset(p.src_rows, r));
        for (int64_t c = c0 + g.lane; c < c1; c += group) st(d + c, ld(d + c) * scale);
        break;
      }
      case ElementwiseOp::Relu:
        for (int64_t c = c0 + g.lane; c < c1; c += group) {
          const float v = ld(d + c);
          st(d + c, v > 0.f ? v : 0.f);
        }
        break;
      case ElementwiseOp::Fill:
        for (int64_t c = c0 + g.lane; c < c1; c += group) st(d + c, p.value);
        break;
    }
  }
}

// Packets of 8 elements (for_each_packet; every operand allows 16-byte accesses; MulRows reads one scalar per row).
template <class TD, class TS, class TG>
__global__ void __launch_bounds__(kRowBlock) elementwise_packets(const ElementwiseParams p) {
  TD* dst = static_cast<TD*>(p.dst);
  const TS* src = static_cast<const TS*>(p.src);
  for_each_packet(p.dst_rows.rows, p.dst_rows.cols, [&](int64_t r, int64_t c) {
    TD* d = dst + row_offset(p.dst_rows, r) + c;
    float x[kPacket], y[kPacket];
    if (p.op != ElementwiseOp::Fill) ld8(d, x);
    switch (p.op) {
      case ElementwiseOp::Add:
        ld8(src + row_offset(p.src_rows, r) + c, y);
#pragma unroll
        for (int e = 0; e < kPacket; ++e) x[e] = x[e] + y[e];
        break;
      case ElementwiseOp::SigmoidMul:
        ld8(src + row_offset(p.src_rows, r) + c, y);
#pragma unroll
        for (int e = 0; e < kPacket; ++e) x[e] = x[e] * sigmoidf_ref(y[e]);
        break;
      case ElementwiseOp::GatedAdd: {
        float gt[kPacket];
        ld8(src + row_offset(p.src_rows, r) + c, y);
        ld8(static_cast<const TG*>(p.gate) + row_offset(p.gate_rows, r) + c, gt);
#pragma unroll
        for (int e = 0; e < kPacket; ++e) x[e] = x[e] + y[e] * sigmoidf_ref(gt[e]);
        break;
      }
      case ElementwiseOp::MulRows: {
        const float scale = ld(src + row_offset(p.src_rows, r));
#pragma unroll
        for (int e = 0; e < kPacket; ++e) x[e] = x[e] * scale;
        break;
      }
      case ElementwiseOp::Relu:
#pragma unroll
        for (int e = 0; e < kPacket; ++e) x[e] = x[e] > 0.f ? x[e] : 0.f;
        break;
      case ElementwiseOp::Fill:
#pragma unroll
        for (int e = 0; e < kPacket; ++e) x[e] = p.value;
        break;
    }
    st8(d, x);
  });
}

}  // namespace

void launch_elementwise(const ElementwiseParams& p, cudaStream_t stream) {
  const int64_t rows = p.dst_rows.rows, cols = p.dst_rows.cols;
  if (rows == 0 || cols == 0) return;
  const int group = row_group_size(cols);
  const int64_t chunks = (cols + kChunkCols - 1) / kChunkCols;
  // Ops without a source read dst's type for both (one instance fewer to pick from).
  const bool has_src = p.op == ElementwiseOp::Add || p.op == ElementwiseOp::SigmoidMul ||
                       p.op == ElementwiseOp::MulRows || p.op == ElementwiseOp::GatedAdd;
  const bool full_rows_src =
      p.op == ElementwiseOp::Add || p.op == ElementwiseOp::SigmoidMul || p.op == ElementwiseOp::GatedAdd;
  const bool use_packets = packets_fit(p.dst_rows, p.dst) && (!full_rows_src || packets_fit(p.src_rows, p.src)) &&
                           (p.op != ElementwiseOp::GatedAdd || packets_fit(p.gate_rows, p.gate));
  const unsigned grid = use_packets ? row_grid(rows * (cols / kPacket), 1) : row_grid(rows * chunks, group);
  auto launch = [&](auto td, auto ts, auto tg) {
    using TD = decltype(td);
    using TS = decltype(ts);
    using TG = decltype(tg);
    if (use_packets) {
      elementwise_packets<TD, TS, TG><<<grid, kRowBlock, 0, stream>>>(p);
    } else {
      elementwise_kernel<TD, TS, TG><<<grid, kRowBlock, 0, stream>>>(p, group, chunks);
    }
  };
  if (p.op == ElementwiseOp::GatedAdd && p.gate_type != p.src_type) {
    AXF_CHECK(p.gate_type == ElemType::F32, "gated_add: gate ", elem_type_name(p.gate_type), " with source ",
              elem_type_name(p.src_type));
    dispatch_float_types(p.dst_type, p.src_type, "gated_add", [&](auto td, auto ts) { launch(td, ts, float{}); });
  } else {
    // The gate (GatedAdd only) shares the source's type.
    dispatch_float_types(p.dst_type, has_src ? p.src_type : p.dst_type, "elementwise",
                         [&](auto td, auto ts) { launch(td, ts, ts); });
  }
  AXF_CUDA_CHECK_LAUNCH("elementwise_kernel");
}

}  // namespace axf::kernels
