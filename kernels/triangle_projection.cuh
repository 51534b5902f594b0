// Triangle multiplicative update, lines 1-3 of Suppl. Alg. 11/12 (AlphaFold's order: mask * projection, then
// * sigmoid(gate)), for a block of pair rows, in one pass (bf16 on the tensor cores):
//   x = LayerNorm(pair[r, j, :])                                  (fp32 statistics, rounded to bf16)
//   left[c, row_begin + r, j]  = mask[r, j] * (x @ w[:, c] + b[c]) * sigmoid(x @ w[:, 2 CB + c] + b[2 CB + c])
//   right[c, row_begin + r, j] = mask[r, j] * (x @ w[:, CB + c] + b[CB + c]) * sigmoid(x @ w[:, 3 CB + c] + ...)
// pair [rows, L, CZ] rows (pair_ld apart), w [CZ, 4 CB] bf16 (left, right, left gate, right gate), b [4 CB] fp32,
// mask [rows, L] fp32 dense, left/right [CB, L, L] bf16 contiguous. The products and the gating stay in fp32 (the
// unfused sequence rounds the projections to bf16 first). Each block keeps one side's two weight matrices in
// shared memory; each of its 8 warps walks its own tiles of 32 rows (two 16-row slabs share every weight fragment;
// the next tile's rows load by cp.async while this one runs, no block barriers), and writes the gated tile
// channel-major through shared memory in 16-byte pieces along j, 32 channels at a time.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

namespace axf::kernels {

struct TriangleProjectionParams {
  const void* pair = nullptr;  // bf16
  int64_t pair_ld = 0;
  const float* ln_scale = nullptr;  // [CZ]
  const float* ln_offset = nullptr;  // [CZ]
  float eps = 1e-5f;
  const void* w = nullptr;  // [CZ, 4 CB] bf16 contiguous
  const float* b = nullptr;  // [4 CB]
  const float* mask = nullptr;  // [rows * L] dense
  void* left = nullptr;  // [CB, L, L] bf16
  void* right = nullptr;
  int64_t rows = 0, L = 0, row_begin = 0, cz = 0, cb = 0;
};

// The widths the kernel is built for (AlphaFold's: c_z = c = 128 in the Evoformer and extra-MSA stacks, 64 in the
// template stack).
inline bool triangle_projection_supported(int64_t cz, int64_t cb) {
  return (cz == 128 && cb == 128) || (cz == 64 && cb == 64);
}

// True when the kernel takes this problem: supported widths, 16-byte aligned pair rows and weights.
bool triangle_projection_fits(const TriangleProjectionParams& p);

void launch_triangle_projection(const TriangleProjectionParams& p, cudaStream_t stream);

}  // namespace axf::kernels
