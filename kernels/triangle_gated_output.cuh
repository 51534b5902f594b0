// Triangle multiplicative update, line 5 of Suppl. Alg. 11/12 after the center LayerNorm, in one pass over the
// pair rows (bf16 on the tensor cores):
//   x = LayerNorm(pair[n, :])                        (the module's input norm, fp32 statistics, rounded to bf16)
//   pair[n, :] += sigmoid(x @ gating_w + gating_b) * (t[n, :] @ output_w + output_b)
// pair [N, CZ] and t [N, C] rows, gating_w [CZ, CZ], output_w [C, CZ] (bf16), biases, scale and offset fp32.
// Each block keeps both weight matrices in shared memory; each of its 8 warps walks its own tiles of 16 rows (the
// next tile's pair and t rows arrive by cp.async while this one runs, no block barriers), normalises them into A
// fragments, runs both products with mma.sync (on sm_90a cards with wgmma: four warps share a 64-row tile, the
// weights read once per 64 rows) and writes the updated rows back in 16-byte pieces. The gate and the
// update stay in fp32 (the unfused sequence rounds both to bf16), so the update reads pair and t once and writes
// pair once.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>


namespace axf::kernels {

struct TriangleGatedOutputParams {
  void* pair = nullptr;  // bf16, `rows` rows of cz, pair_ld elements apart
  int64_t pair_ld = 0;
  const void* t = nullptr;  // bf16, `rows` rows of c, t_ld elements apart
  int64_t t_ld = 0;
  const void* gating_w = nullptr;  // [CZ, CZ] bf16 contiguous
  const void* output_w = nullptr;  // [C, CZ] bf16 contiguous
  const float* gating_b = nullptr;  // [CZ]
  const float* output_b = nullptr;  // [CZ]
  const float* ln_scale = nullptr;  // [CZ]
  const float* ln_offset = nullptr;  // [CZ]
  float eps = 1e-5f;
  int64_t rows = 0, cz = 0, c = 0;
};

// The widths the kernel is built for (AlphaFold's: c_z = c = 128 in the Evoformer and extra-MSA stacks, 64 in the
// template stack).
inline bool triangle_gated_output_supported(int64_t cz, int64_t c) {
  return (cz == 128 && c == 128) || (cz == 64 && c == 64);
}

// True when the kernel takes these rows: supported widths, every row 16-byte aligned.
bool triangle_gated_output_fits(const TriangleGatedOutputParams& p);

void launch_triangle_gated_output(const TriangleGatedOutputParams& p, cudaStream_t stream);

}  // namespace axf::kernels
