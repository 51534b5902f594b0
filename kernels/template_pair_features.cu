#include "kernels/template_pair_features.cuh"

#include "backend/cuda/cuda_check.h"
#include "kernels/feature_io.cuh"
#include "kernels/rows_device.cuh"

namespace axf::kernels {

namespace {

namespace fm = backend::features;

template <class TO>
__global__ void __launch_bounds__(kRowBlock) template_features_kernel(const TemplatePairFeatureParams p, int group) {
  const GroupIndex g = group_index(group);
  const int64_t items = p.rows * p.num_res;
  TO* out = static_cast<TO*>(p.out);
  for (int64_t base = g.base; base < items; base += g.step) {
    const int64_t n = base + g.sub;
    if (n >= items) continue;
    int64_t j = 0;
    const int64_t i = div_rem(n, p.num_res, &j);
    const fm::TemplatePair tp = fm::template_pair(p.res, p.row_begin + i, j, p.use_unit_vector);
    TO* o = out + i * p.out_s0 + j * p.out_s1;
    for (int64_t c = g.lane; c < p.channels; c += group)
      fm::store(o + c, fm::template_feature(tp, static_cast<int>(c), p.lower, p.upper, p.num_bins));
  }
}

// acc + f * w[k, c] for a nonzero feature f (the CPU reference skips exact zeros the same way).
template <class TW>
__device__ __forceinline__ float accumulate(float acc, float f, const TW* w, int64_t k, int64_t C, int64_t c) {
  return f != 0.f ? fm::add(acc, fm::mul(f, fm::load(w + k * C + c))) : acc;
}

constexpr int kExtraCandidates = 7;  // pseudo-beta mask, aatype j, aatype i, unit vector (3), backbone mask

template <class TO, class TW, class TB>
__global__ void __launch_bounds__(kRowBlock) template_embedding_kernel(const TemplatePairFeatureParams p, int group) {
  const GroupIndex g = group_index(group);
  const int64_t items = p.rows * p.num_res, C = p.channels;
  const int nb = p.num_bins;
  TO* out = static_cast<TO*>(p.out);
  const TW* w = static_cast<const TW*>(p.w);
  const TB* bias = static_cast<const TB*>(p.bias);
  for (int64_t base = g.base; base < items; base += g.step) {
    const int64_t n = base + g.sub;
    if (n >= items) continue;
    int64_t j = 0;
    const int64_t i = div_rem(n, p.num_res, &j);
    const fm::TemplatePair tp = fm::template_pair(p.res, p.row_begin + i, j, p.use_unit_vector);
    // Hot dgram bins (one for increasing edges; any number otherwise), in ascending order; they share one value.
    uint64_t hot = 0;
    for (int k = 0; k < nb; ++k)
      if (tp.dist2 > p.lower[k] && tp.dist2 < p.upper[k]) hot |= uint64_t{1} << k;
    const float hot_value =
        hot ? fm::template_feature(tp, __ffsll(static_cast<long long>(hot)) - 1, p.lower, p.upper, nb) : 0.f;
    // The other channels that can be nonzero, ascending (-1: none), and their values, once per pair.
    constexpr int A = fm::kTemplateAatypeClasses;
    int ek[kExtraCandidates];
    float ev[kExtraCandidates];
    ek[0] = nb;
    ek[1] = tp.aa_j >= 0 && tp.aa_j < A ? nb + 1 + tp.aa_j : -1;
    ek[2] = tp.aa_i >= 0 && tp.aa_i < A ? nb + 1 + A + tp.aa_i : -1;
#pragma unroll
    for (int d = 0; d < 4; ++d) ek[3 + d] = nb + 1 + 2 * A + d;
#pragma unroll
    for (int e = 0; e < kExtraCandidates; ++e)
      ev[e] = ek[e] >= 0 ? fm::template_feature(tp, ek[e], p.lower, p.upper, nb) : 0.f;
    TO* o = out + i * p.out_s0 + j * p.out_s1;
    for (int64_t c = g.lane; c < C; c += group) {
      float acc = 0.f;
      for (uint64_t m = hot; m != 0; m &= m - 1)
        acc = accumulate(acc, hot_value, w, __ffsll(static_cast<long long>(m)) - 1, C, c);
#pragma unroll
      for (int e = 0; e < kExtraCandidates; ++e)
        if (ek[e] >= 0) acc = accumulate(acc, ev[e], w, ek[e], C, c);
      fm::store(o + c, bias ? fm::add(acc, fm::load(bias + c)) : acc);
    }
  }
}

}  // namespace

void launch_template_pair_features(const TemplatePairFeatureParams& p, cudaStream_t stream) {
  const int64_t items = p.rows * p.num_res;
  if (items == 0 || p.channels == 0) return;
  const int group = feature_group_size(p.channels);
  const unsigned grid = row_grid(items, group);
  if (!p.w) {
    dispatch_feature_type(p.out_type, "template_pair_features", [&](auto to) {
      template_features_kernel<decltype(to)><<<grid, kRowBlock, 0, stream>>>(p, group);
    });
  } else {
    dispatch_feature_types(p.out_type, p.w_type, p.bias_type, "template_pair_features", [&](auto to, auto tw, auto tb) {
      template_embedding_kernel<decltype(to), decltype(tw), decltype(tb)><<<grid, kRowBlock, 0, stream>>>(p, group);
    });
  }
  AXF_CUDA_CHECK_LAUNCH("template_pair_features");
}

}  // namespace axf::kernels
