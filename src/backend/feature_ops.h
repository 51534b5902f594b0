// Shape and dtype checks of the input-feature operations (Backend::template_pair_features,
// relative_position_embedding, distogram_embedding, extra_msa_embedding), shared by every backend so they reject
// the same arguments with the same messages. Device placement is each backend's own check.
#pragma once

#include <cstdint>

#include "backend/backend.h"

namespace axf::backend::features {

struct TemplatePairFeatureDims {
  int64_t num_res = 0, rows = 0, channels = 0;
  int num_bins = 0;
  bool fused = false;  // w given: channels = Cout
};
TemplatePairFeatureDims check_template_pair_feature_args(const TemplatePairFeatureArgs& a);

struct PairEmbeddingDims {
  int64_t num_res = 0, rows = 0, channels = 0;
};
PairEmbeddingDims check_relative_position_args(const RelativePositionEmbeddingArgs& a);
PairEmbeddingDims check_distogram_args(const DistogramEmbeddingArgs& a);

struct ExtraMsaDims {
  int64_t num_seq = 0, num_res = 0, channels = 0;
};
ExtraMsaDims check_extra_msa_args(const ExtraMsaEmbeddingArgs& a);

}  // namespace axf::backend::features
