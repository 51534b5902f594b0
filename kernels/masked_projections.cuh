// The outer product mean's input projections (Suppl. Alg. 10 lines 1-2) on bf16 MSA rows in one kernel:
//   x = LayerNorm(msa[n, :])                       (fp32 statistics, rounded to bf16)
//   left[n, :] = mask[n] * (x @ w_left + b_left)   right[n, :] = mask[n] * (x @ w_right + b_right)
// msa [N, C] rows, w_left [C, A], w_right [C, B] (bf16), biases, scale and offset [C] fp32, mask [N] fp32, left
// [N, A] and right [N, B] bf16 rows. Each block keeps both weight matrices side by side in shared memory; each of
// its 8 warps walks its own tiles of 16 rows (the next tile's rows arrive by cp.async while this one runs, no
// block barriers): LayerNorm into A fragments, one mma.sync product into the A + B outputs, the mask and one
// rounding, then 16-byte writes through the tile's stage. The normalised rows never reach memory: the rows are read
// once and only the projections written.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

namespace axf::kernels {

struct MaskedProjectionParams {
  const void* msa = nullptr;  // bf16, `rows` rows of c, msa_ld elements apart
  int64_t msa_ld = 0;
  const float* mask = nullptr;  // [rows] (mask_ld apart), one factor per row
  int64_t mask_ld = 1;
  const void* w_left = nullptr;   // [c, a] bf16 contiguous
  const void* w_right = nullptr;  // [c, b] bf16 contiguous
  const float* b_left = nullptr;  // [a]
  const float* b_right = nullptr;  // [b]
  const float* ln_scale = nullptr;  // [c]
  const float* ln_offset = nullptr;  // [c]
  float eps = 1e-5f;
  void* left = nullptr;  // bf16, `rows` rows of a, left_ld apart
  int64_t left_ld = 0;
  void* right = nullptr;  // bf16, `rows` rows of b, right_ld apart
  int64_t right_ld = 0;
  int64_t rows = 0, c = 0, a = 0, b = 0;
};

// The widths the kernel is built for (AlphaFold's: c_m = 256 in the Evoformer, c_e = 64 in the extra-MSA stack,
// 32 outer channels per side).
inline bool masked_projections_supported(int64_t c, int64_t a, int64_t b) {
  return (c == 256 || c == 64) && a == 32 && b == 32;
}

// True when the kernel takes these rows: supported widths, 16-byte aligned rows and weights.
bool masked_projections_fit(const MaskedProjectionParams& p);

void launch_masked_projections(const MaskedProjectionParams& p, cudaStream_t stream);

}  // namespace axf::kernels
