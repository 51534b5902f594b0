#include "kernels/pair_embedding.cuh"

#include "backend/cuda/cuda_check.h"
#include "kernels/feature_io.cuh"
#include "kernels/rows_device.cuh"

namespace axf::kernels {

namespace {

namespace fm = backend::features;

template <PairBin kBin>
__device__ __forceinline__ int32_t pair_bin(const PairEmbeddingParams& p, int64_t i, int64_t j) {
  if constexpr (kBin == PairBin::RelativePosition) {
    return fm::relative_position_bin(p.residue_index[i], p.residue_index[j], p.max_relative_feature);
  } else {
    return fm::distogram_bin(fm::squared_distance(p.positions + i * 3, p.positions + j * 3), p.lower, p.upper,
                             p.num_bins);
  }
}

template <PairBin kBin, class TP, class TT, class TB>
__global__ void __launch_bounds__(kRowBlock) pair_embedding_kernel(const PairEmbeddingParams p, int group) {
  const GroupIndex g = group_index(group);
  const int64_t items = p.rows * p.num_res, C = p.channels;
  TP* pair = static_cast<TP*>(p.pair);
  const TT* table = static_cast<const TT*>(p.table);
  const TB* bias = static_cast<const TB*>(p.bias);
  for (int64_t base = g.base; base < items; base += g.step) {
    const int64_t n = base + g.sub;
    if (n >= items) continue;
    int64_t j = 0;
    const int64_t i = div_rem(n, p.num_res, &j);
    const int32_t bin = pair_bin<kBin>(p, p.row_begin + i, j);
    const TT* t = bin >= 0 ? table + bin * C : nullptr;
    TP* o = pair + i * p.pair_s0 + j * p.pair_s1;
    for (int64_t c = g.lane; c < C; c += group) {
      float v = fm::load(o + c);
      if (t) v = fm::add(v, fm::load(t + c));
      if (bias) v = fm::add(v, fm::load(bias + c));
      fm::store(o + c, v);
    }
  }
}

}  // namespace

void launch_pair_embedding(const PairEmbeddingParams& p, cudaStream_t stream) {
  const int64_t items = p.rows * p.num_res;
  if (items == 0 || p.channels == 0) return;
  const int group = feature_group_size(p.channels, p.pair_type);
  const unsigned grid = row_grid(items, group);
  dispatch_feature_types(p.pair_type, p.table_type, p.bias_type, "pair_embedding", [&](auto tp, auto tt, auto tb) {
    using TP = decltype(tp);
    using TT = decltype(tt);
    using TB = decltype(tb);
    if (p.bin == PairBin::RelativePosition) {
      pair_embedding_kernel<PairBin::RelativePosition, TP, TT, TB><<<grid, kRowBlock, 0, stream>>>(p, group);
    } else {
      pair_embedding_kernel<PairBin::Distogram, TP, TT, TB><<<grid, kRowBlock, 0, stream>>>(p, group);
    }
  });
  AXF_CUDA_CHECK_LAUNCH("pair_embedding_kernel");
}

}  // namespace axf::kernels
