// Invariant point attention core (Suppl. Alg. 22 lines 4-10; Backend::invariant_point_attention) in two kernels:
//   prepare: per (residue, head) the packed query [sqk scalars | pqk global points], key (same; both zero-padded
//            per part to float4s) and value [sv scalars | pv global points] rows, points moved to the global
//            frame once (not once per pair);
//   attend:  one block (128 threads) per query row i for all heads: keys in tiles of 32 (logits of all heads for
//            the tile, then one warp per head for an online softmax in fp32 with the 1e5 mask penalty kept apart
//            from the logit so padded rows keep fp32 precision, then the weighted sums of the value rows and of
//            pair[i, j, :]). pair[i, :, :] and bias[i, :, :] are read once per call, coalesced; the [H, L, L]
//            weights never leave shared memory; the epilogue moves the points back into frame i.
// The pair may be fp32 or bf16 (one attend instance each, widened on load); everything else is fp32.
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>

#include "kernels/copy.cuh"

namespace axf::kernels {

struct IpaParams {
  int64_t L = 0, H = 0, sqk = 0, sv = 0, pqk = 0, pv = 0, cz = 0;
  const float* q_scalar = nullptr;       // [L, H, sqk] contiguous
  const float* kv_scalar = nullptr;      // [L, H, sqk + sv] contiguous
  const float* q_point = nullptr;        // [L, 3, H, pqk] contiguous (coordinate-major)
  const float* kv_point = nullptr;       // [L, 3, H, pqk + pv] contiguous
  const float* affines = nullptr;        // [L, 7] contiguous
  const float* mask = nullptr;           // [L]
  const float* point_weights = nullptr;  // [H]
  const float* bias = nullptr;           // [L, L, H], dense last dim
  int64_t bias_s0 = 0, bias_s1 = 0;
  const void* pair = nullptr;  // [L, L, cz], dense last dim; fp32 or bf16 (pair_type)
  ElemType pair_type = ElemType::F32;
  int64_t pair_s0 = 0, pair_s1 = 0;
  float* out = nullptr;  // [L, H * (sv + 4 pv + cz)], dense last dim
  int64_t out_s0 = 0;
  float scalar_weight = 1.f, attention_2d_weight = 1.f;
};

// fp32 elements of the packed query/key/value workspace.
int64_t ipa_workspace_elements(const IpaParams& p);
// Dynamic shared memory of the attend kernel (the launch checks it against the device limit).
size_t ipa_shared_bytes(const IpaParams& p);

void launch_invariant_point_attention(const IpaParams& p, float* workspace, cudaStream_t stream);

}  // namespace axf::kernels
