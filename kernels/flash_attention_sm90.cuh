// Gated multi-head attention on Hopper's warpgroup tensor cores (sm_90a wgmma), for bf16 with head dims 17..32
// (AlphaFold's MSA row, MSA column and triangle attention: 32). The algorithm and semantics are
// flash_attention.cuh's (FlashAttention's online softmax over key tiles of 64; bias added and masked keys replaced
// by -1e9 before the row max; P rounded to bf16; out = (P v / rowsum) * sigmoid(gate)); what differs is the
// machine code:
// - a block is two warpgroups, each owning 64 query rows (128 per block), sharing the key/value tiles;
// - S [64 x 64] = bias + (scale q) k^T per warpgroup: the accumulators start from the bf16 bias tile, then two
//   wgmma m64n64k16 with q as register A fragments and the key tile from shared memory;
// - O [64 x 40] += P [v | 1] per warpgroup: four wgmma m64n40k16 with P as register A fragments and the value tile
//   (transposed operand) from shared memory, whose 5th column block is all ones, so columns 32..39 of O carry the
//   row sums of exactly the bf16 P that O receives.
// Tensors: q [B,Q,H,D], k/v [B,K,Hk,D] (Hk == H or 1), mask [B or 1, K], bias [H,Q,K] bf16, gate/out [B,Q,H,Dv].
#pragma once

#include <cuda_runtime_api.h>

#include "kernels/flash_attention.cuh"

namespace axf::kernels {

// True when the wgmma kernel takes p on the current card: bf16 tensors with 16 < max(D, Dv) <= 32, D and Dv
// multiples of 8, a bf16 bias (or none), every tensor in 16-byte pieces (aligned bases, strides multiples of 8
// elements, dense keys in the bias), a binary built for sm_90a, an sm_90 card, and AXF_FLASH_WGMMA=1 in the
// environment (read once). Off by default: measured on an H200 at L=1024 it is slower than the mma.sync kernel
// (docs/benchmarks.md, session 9), so it stays opt-in as the base of the Hopper-native attention.
bool flash_attention_sm90_takes(const FlashAttentionParams& p);

// True when this binary carries sm_90a code (AXF_CUDA_SM90A), the current device is an sm_90 card and AXF_NO_WGMMA=1
// is not in the environment: kernels may take their sm_90-only paths (wgmma). Read once per device.
bool sm90a_kernels_usable();

// Runs on `stream`; no workspace. Only for problems flash_attention_sm90_takes accepts.
void launch_flash_attention_sm90(const FlashAttentionParams& p, cudaStream_t stream);

}  // namespace axf::kernels
