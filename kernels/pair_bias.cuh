// Attention pair bias in one pass over the pair rows (bf16 on the tensor cores): MSA row attention with pair bias,
// Suppl. Alg. 7 lines 1-3 (b = LinearNoBias(LayerNorm(z))), and triangle attention, Suppl. Alg. 13/14 lines 1-3
// (the same from the normalised rows that the attention then reads), for a block of pair rows:
//   x[r, j, :] = LayerNorm(pair[r, j, :])   (fp32 statistics, rounded to bf16; or pair itself when already normal)
//   out[h, r, j] = sum_c x[r, j, c] w[c, h]   (fp32 accumulation, rounded once)
//   normed[r, j, :] = x[r, j, :]             (optional)
// pair [rows, L, CZ] bf16 (dense channels; element (r, j, c) at r sr + j sj + c), w [CZ, H] bf16 (rows w_ld apart),
// H <= 8, out [H, rows, L] bf16 (any strides: a slice of the bias [H, L, L] in practice), normed [rows, L, CZ] bf16
// (dense channels, any leading strides). Each block keeps w (zero-padded to 8 heads: one mma n-block) and the
// LayerNorm parameters in shared memory; each warp walks its own tiles of 16 flattened rows n = r L + j with two
// cp.async stages (no block barriers after the weights), and writes each head's 16 results through shared memory
// in 16-byte pieces where they are contiguous and aligned.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

namespace axf::kernels {

// Strides of a [rows, L] grid of rows (pair, normed) or of elements (out): element n = r L + j at r sr + j sj.
// flat: the grid is one evenly strided list (n sj); the kernel then needs no coordinates.
struct PairGrid {
  int64_t sr = 0, sj = 0;
  bool flat = true;
};

// The grid of a [rows, L] view with strides (sr, sj), collapsed to a flat list where the rows follow evenly.
inline PairGrid pair_grid(int64_t rows, int64_t L, int64_t sr, int64_t sj) {
  if (rows <= 1 && L <= 1) return {0, 0, true};  // one element at the base
  if (L <= 1) return {sr, sr, true};
  if (rows <= 1 || sr == L * sj) return {L * sj, sj, true};
  return {sr, sj, false};
}

struct PairBiasParams {
  const void* pair = nullptr;  // bf16
  PairGrid pair_grid;
  const float* ln_scale = nullptr;   // [CZ], or null with ln_offset: the rows are already normalised
  const float* ln_offset = nullptr;  // [CZ]
  float eps = 1e-5f;
  const void* w = nullptr;  // [CZ, H] bf16
  int64_t w_ld = 0;
  void* out = nullptr;  // bf16, element (h, r, j) at h out_sh + grid offset of n = r L + j
  int64_t out_sh = 0;
  PairGrid out_grid;
  void* normed = nullptr;  // bf16 or null
  PairGrid normed_grid;
  int64_t rows = 0, L = 0, cz = 0, heads = 0;
};

// The widths the kernel is built for (AlphaFold's: c_z = 128 with 8 MSA-row heads or 4 triangle heads in the
// Evoformer and extra-MSA stacks, c_z = 64 with 4 heads in the template stack).
inline bool pair_bias_supported(int64_t cz, int64_t heads) {
  return (cz == 128 || cz == 64) && heads >= 1 && heads <= 8;
}

// True when the kernel takes this problem: supported widths, pair (and normed) rows 16-byte aligned with strides of
// whole 16-byte pieces.
bool pair_bias_fits(const PairBiasParams& p);

void launch_pair_bias(const PairBiasParams& p, cudaStream_t stream);

}  // namespace axf::kernels
