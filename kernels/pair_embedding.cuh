// One-hot pair embeddings added into the pair representation without index tensors (Backend::
// relative_position_embedding, distogram_embedding): pair[i,j,:] = (pair[i,j,:] + table[bin(i,j),:]) + bias, the
// bin computed per pair on the device (relative positions clipped at +-R, or the recycled pseudo-beta distogram
// bin). A row group of lanes per pair (about 8 channels a lane); nothing is read back by the host.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

#include "backend/feature_math.h"
#include "kernels/copy.cuh"

namespace axf::kernels {

enum class PairBin : int { RelativePosition = 0, Distogram = 1 };

struct PairEmbeddingParams {
  PairBin bin = PairBin::RelativePosition;
  const int32_t* residue_index = nullptr;  // [L] (RelativePosition)
  int32_t max_relative_feature = 0;
  const float* positions = nullptr;        // [L, 3] (Distogram)
  int num_bins = 0;
  float lower[backend::features::kMaxDgramBins] = {};
  float upper[backend::features::kMaxDgramBins] = {};
  const void* table = nullptr;  // [bins, channels] contiguous
  const void* bias = nullptr;   // [channels] or nullptr
  ElemType table_type = ElemType::F32, bias_type = ElemType::F32;
  void* pair = nullptr;         // [rows, L, channels], last dim dense
  ElemType pair_type = ElemType::F32;
  int64_t pair_s0 = 0, pair_s1 = 0;
  int64_t num_res = 0, rows = 0, row_begin = 0, channels = 0;
};

void launch_pair_embedding(const PairEmbeddingParams& p, cudaStream_t stream);

}  // namespace axf::kernels
