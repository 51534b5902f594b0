// Template pair features of one template on the device (Backend::template_pair_features): a row group of lanes
// per residue pair (i, j) (about 8 channels a lane) computes the pair's distances, masks and unit vector
// (backend/feature_math.h, the CPU reference's arithmetic) and writes either the [num_bins + 49] feature channels
// or, fused with embedding2d, out[i,j,:] = features @ w + bias summed over the few features that can be nonzero
// (hot dgram bins, masks, the two aatype one-hots, the unit vector; values formed once per pair) in feature
// order, so the [L, L, 88] tensor never exists.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

#include "backend/feature_math.h"
#include "kernels/copy.cuh"

namespace axf::kernels {

struct TemplatePairFeatureParams {
  backend::features::TemplateResidues res;  // device pointers, [L, ...] contiguous
  int64_t num_res = 0, rows = 0, row_begin = 0;
  int num_bins = 0;
  float lower[backend::features::kMaxDgramBins] = {};  // squared bin edges
  float upper[backend::features::kMaxDgramBins] = {};
  bool use_unit_vector = false;
  const void* w = nullptr;     // [num_bins + 49, channels] contiguous, or nullptr: write the features
  const void* bias = nullptr;  // [channels] or nullptr (only with w)
  ElemType w_type = ElemType::F32, bias_type = ElemType::F32;
  void* out = nullptr;         // [rows, L, channels], last dim dense
  ElemType out_type = ElemType::F32;
  int64_t out_s0 = 0, out_s1 = 0, channels = 0;
};

void launch_template_pair_features(const TemplatePairFeatureParams& p, cudaStream_t stream);

}  // namespace axf::kernels
