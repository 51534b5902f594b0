// Per-head logits of pair rows, written head-major: the pair bias of MSA row attention (Suppl. Alg. 7 lines 1, 3)
// and of triangle attention (Alg. 13/14 line 3):
//   out[h, n] = y[n, :] @ w[:, h],   y = LayerNorm(x) over the C channels (fp32 statistics, rounded to bf16 as the
//   unfused LayerNorm's output is) or x itself when no scale is given
// x bf16 rows [N, C] (x_ld apart), w fp32 [C, H], out bf16 [H, N] (head h at out + h * out_head_stride). One group
// of C / 8 lanes per row (one 16-byte packet each), the head sums reduced across the group; the logits of 64 rows
// are gathered in shared memory and written a head at a time. Replaces a LayerNorm pass, a GEMM with H outputs and a
// transposing copy with one read of x.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

namespace axf::kernels {

struct PairBiasParams {
  const void* x = nullptr;  // bf16
  int64_t x_ld = 0, rows = 0, c = 0;
  const float* ln_scale = nullptr;   // [C], or nullptr: x is already normalised
  const float* ln_offset = nullptr;  // [C]
  float eps = 1e-5f;
  const float* w = nullptr;  // [C, H] contiguous
  int64_t heads = 0;
  void* out = nullptr;  // bf16
  int64_t out_head_stride = 0;
};

// The widths the kernel is built for (AlphaFold's pair biases: c_z 128 or 64, 4 or 8 heads).
inline bool pair_bias_supported(int64_t c, int64_t heads) { return (c == 128 || c == 64) && (heads == 4 || heads == 8); }

// True when the kernel takes this problem: supported widths, x rows and out 16-byte / 2-byte aligned.
bool pair_bias_fits(const PairBiasParams& p);

void launch_pair_bias(const PairBiasParams& p, cudaStream_t stream);

}  // namespace axf::kernels
