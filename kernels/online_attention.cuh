// Online softmax over keys given one at a time (Backend::attention_accumulate / attention_normalize; FlashAttention's
// rescaling with one key per call): template pointwise attention (Suppl. Alg. 17) streamed over the templates.
//   accumulate: a group of 8 lanes per (b, h) row: the score by a strided dot product and a butterfly sum (every lane
//               ends with the same bits), then each lane rescales its strided share of acc; lane 0 stores m and l.
//   normalize:  one thread per element, out = acc / l.
// q, k, v share one dtype T, acc (and out) another A; both fp32 or bf16, arithmetic fp32.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

#include "kernels/copy.cuh"

namespace axf::kernels {

struct OnlineAttentionParams {
  int64_t B = 0, H = 0, D = 0, Dv = 0;
  const void* q = nullptr;  // [B, H, D], dense last dim
  const void* k = nullptr;  // [B, H, D], dense last dim
  const void* v = nullptr;  // [B, H, Dv], dense last dim
  ElemType qkv_type = ElemType::F32;
  int64_t q_s0 = 0, q_s1 = 0, k_s0 = 0, k_s1 = 0, v_s0 = 0, v_s1 = 0;
  float* m = nullptr;  // [B, H] running maximum
  int64_t m_s0 = 0, m_s1 = 0;
  float* l = nullptr;  // [B, H] running sum
  int64_t l_s0 = 0, l_s1 = 0;
  void* acc = nullptr;  // [B, H, Dv], dense last dim
  ElemType acc_type = ElemType::F32;
  int64_t acc_s0 = 0, acc_s1 = 0;
  float scale = 1.f;
};

struct AttentionNormalizeParams {
  int64_t B = 0, H = 0, Dv = 0;
  const void* acc = nullptr;  // [B, H, Dv], dense last dim
  ElemType acc_type = ElemType::F32;
  int64_t acc_s0 = 0, acc_s1 = 0;
  const float* l = nullptr;  // [B, H]
  int64_t l_s0 = 0, l_s1 = 0;
  void* out = nullptr;  // [B, H, Dv], dense last dim; may be acc itself
  ElemType out_type = ElemType::F32;
  int64_t out_s0 = 0, out_s1 = 0;
};

void launch_attention_accumulate(const OnlineAttentionParams& p, cudaStream_t stream);
void launch_attention_normalize(const AttentionNormalizeParams& p, cudaStream_t stream);

}  // namespace axf::kernels
