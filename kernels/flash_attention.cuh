// Gated multi-head attention in one pass (FlashAttention's online softmax): one thread block per (batch, head,
// tile of 64 queries) walks the keys in tiles of 64, adds the bias tile and applies the key mask in registers,
// keeps the running row max and row sum in fp32, accumulates P v on chip and writes
// out = (P v / rowsum) * sigmoid(gate) once; the [Q, K] logits never reach device memory.
// Semantics of backend::AttentionArgs: q [B,Q,H,D], k [B,K,Hk,D], v [B,K,Hk,Dv] (Hk == H or 1), key mask
// [B or 1, K] (0 = masked: the logit is replaced by -1e9 after the bias is added), bias [H,Q,K], gate and out
// [B,Q,H,Dv]. fp32 tensors: exact fp32 products on the FMA units; bf16 tensors: mma.sync m16n8k16 tensor-core
// products of the scaled q (scale * q rounded to bf16 once, as AlphaFold scales q) with fp32 accumulation onto
// the bias, fp32 row max, P = 2^x on the SFU in fp32 then rounded to bf16, row sums of exactly that
// P on the tensor cores.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

#include "kernels/copy.cuh"

namespace axf::kernels {

// Head dims up to this go to the flash kernels (templated on 8, 16, 32, 64; smaller dims are zero-padded).
constexpr int64_t kFlashMaxHeadDim = 64;

struct FlashAttentionParams {
  int64_t B = 0, Q = 0, K = 0, H = 0, Hk = 0, D = 0, Dv = 0;
  ElemType dtype = ElemType::F32;  // of q, k, v, gate and out: F32 or BF16
  // Element strides of dims 0..2; the last dim of q, k, v, gate and out is dense.
  const void* q = nullptr;
  int64_t q_s0 = 0, q_s1 = 0, q_s2 = 0;
  const void* k = nullptr;
  int64_t k_s0 = 0, k_s1 = 0, k_s2 = 0;
  const void* v = nullptr;
  int64_t v_s0 = 0, v_s1 = 0, v_s2 = 0;
  const float* mask = nullptr;  // [B or 1, K] fp32; mask_s0 = 0 broadcasts one row over the batch; nullptr: none
  int64_t mask_s0 = 0, mask_s1 = 0;
  const void* bias = nullptr;  // [H, Q, K] (any strides), or nullptr
  ElemType bias_dtype = ElemType::F32;  // F32; BF16 also accepted when dtype is BF16
  int64_t bias_s0 = 0, bias_s1 = 0, bias_s2 = 0;
  const void* gate = nullptr;  // [B, Q, H, Dv] gate logits, or nullptr
  int64_t gate_s0 = 0, gate_s1 = 0, gate_s2 = 0;
  void* out = nullptr;
  int64_t out_s0 = 0, out_s1 = 0, out_s2 = 0;
  float scale = 1.f;
};

// True when the flash kernels take this problem (head dims 1..64, dtypes as above).
bool flash_attention_supported(const FlashAttentionParams& p);

// Runs on `stream`; no workspace. Throws (AXF_CHECK) for an unsupported problem.
void launch_flash_attention(const FlashAttentionParams& p, cudaStream_t stream);

}  // namespace axf::kernels
