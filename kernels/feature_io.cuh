// Storage types of the input-feature kernels (template_pair_features, pair_embedding, extra_msa_embedding):
// fp32 as float, bf16 as its 16-bit pattern (uint16_t), read and written through backend/feature_math.h's
// load/store (core/half_precision.h conversions, bit-identical to the CPU backend). Host side only.
#pragma once

#include <cstdint>
#include <utility>

#include "core/error.h"
#include "kernels/copy.cuh"

namespace axf::kernels {

// f(float{}) or f(uint16_t{}) for F32 / BF16; other types are an error naming `what`.
template <class F>
void dispatch_feature_type(ElemType t, const char* what, F&& f) {
  switch (t) {
    case ElemType::F32: std::forward<F>(f)(float{}); return;
    case ElemType::BF16: std::forward<F>(f)(uint16_t{}); return;
    default: AXF_FAIL(what, ": tensors must be fp32 or bf16");
  }
}

// f(A{}, B{}, C{}) for three run-time types.
template <class F>
void dispatch_feature_types(ElemType a, ElemType b, ElemType c, const char* what, F&& f) {
  dispatch_feature_type(a, what, [&](auto ta) {
    dispatch_feature_type(b, what, [&](auto tb) { dispatch_feature_type(c, what, [&](auto tc) { f(ta, tb, tc); }); });
  });
}

// Lanes per item (a residue pair or an MSA entry): a power of two giving each lane about 8 fp32 (4 bf16) channels,
// so a warp keeps several items' loads in flight and the per-item set-up (indices, distances) is shared by fewer
// lanes, while 16-bit rows still move at least 32 bytes per warp instruction and item (measured on H200).
inline int feature_group_size(int64_t channels, ElemType type = ElemType::F32) {
  const int per_lane = type == ElemType::BF16 ? 4 : 8;
  int g = 1;
  while (g < 32 && g * per_lane < channels) g *= 2;
  return g;
}

}  // namespace axf::kernels
