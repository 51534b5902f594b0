#include "kernels/extra_msa_embedding.cuh"

#include "backend/cuda/cuda_check.h"
#include "backend/feature_math.h"
#include "kernels/feature_io.cuh"
#include "kernels/rows_device.cuh"

namespace axf::kernels {

namespace {

namespace fm = backend::features;

template <class TO, class TW, class TB>
__global__ void __launch_bounds__(kRowBlock) extra_msa_embedding_kernel(const ExtraMsaEmbeddingParams p, int group) {
  const GroupIndex g = group_index(group);
  const int64_t items = p.num_seq * p.num_res, C = p.channels;
  TO* out = static_cast<TO*>(p.out);
  const TW* w = static_cast<const TW*>(p.w);
  const TW* w_hd = w + (fm::kExtraMsaFeatures - 2) * C;
  const TW* w_dv = w + (fm::kExtraMsaFeatures - 1) * C;
  const TB* bias = static_cast<const TB*>(p.bias);
  for (int64_t base = g.base; base < items; base += g.step) {
    const int64_t n = base + g.sub;
    if (n >= items) continue;
    int64_t i = 0;
    const int64_t s = div_rem(n, p.num_res, &i);
    const int32_t aa = p.aatype[n];
    const float hd = p.has_deletion[n], dv = p.deletion_value[n];
    const TW* wa = aa >= 0 && aa < fm::kExtraMsaFeatures - 2 ? w + aa * C : nullptr;
    TO* o = out + s * p.out_s0 + i * p.out_s1;
    for (int64_t c = g.lane; c < C; c += group) {
      float v = fm::add(fm::add(wa ? fm::load(wa + c) : 0.f, fm::mul(hd, fm::load(w_hd + c))),
                        fm::mul(dv, fm::load(w_dv + c)));
      if (bias) v = fm::add(v, fm::load(bias + c));
      fm::store(o + c, v);
    }
  }
}

}  // namespace

void launch_extra_msa_embedding(const ExtraMsaEmbeddingParams& p, cudaStream_t stream) {
  const int64_t items = p.num_seq * p.num_res;
  if (items == 0 || p.channels == 0) return;
  const int group = feature_group_size(p.channels, p.out_type);
  const unsigned grid = row_grid(items, group);
  dispatch_feature_types(p.out_type, p.w_type, p.bias_type, "extra_msa_embedding", [&](auto to, auto tw, auto tb) {
    extra_msa_embedding_kernel<decltype(to), decltype(tw), decltype(tb)><<<grid, kRowBlock, 0, stream>>>(p, group);
  });
  AXF_CUDA_CHECK_LAUNCH("extra_msa_embedding_kernel");
}

}  // namespace axf::kernels
