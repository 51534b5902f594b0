// MSA / pair transition (Suppl. Alg. 9 "MSATransition", Alg. 15 "PairTransition") on bf16 rows in one kernel:
//   act[n, :] += relu(LayerNorm(act[n, :]) @ w1 + b1) @ w2 + b2
// act [N, C] rows (updated in place), w1 [C, H], w2 [H, C] (bf16), b1 [H], b2 [C], scale and offset [C] fp32.
// Each block keeps both weight matrices, or their halves for one half of the hidden units, in shared memory; its 8
// warps walk their own tiles of 16 rows (the next tile's rows arrive by cp.async while this one runs, no block
// barriers): LayerNorm into A fragments, per 64 hidden units the first product, bias and ReLU in registers, rounded
// to bf16 A fragments of the second product, whose fp32 accumulators never leave the registers (mma.sync; on sm_90a
// cards wgmma, four warps sharing a 64-row tile so the weights are read once per 64 rows). The [N, H] hidden
// activations are never written to memory. Widths whose weights fit shared memory take one pass (c = 64, the
// extra-MSA and template stacks); c = 128 (the Evoformer's pair) takes two passes over two halves of the hidden
// units, the first writing its share of the update (bf16) to `partial` [N, C], the second adding it.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

namespace axf::kernels {

struct TransitionParams {
  void* act = nullptr;  // bf16, `rows` rows of c, act_ld elements apart (read, then updated in place)
  int64_t act_ld = 0;
  const void* w1 = nullptr;  // [c, hidden] bf16 contiguous
  const void* w2 = nullptr;  // [hidden, c] bf16 contiguous
  const float* b1 = nullptr;  // [hidden]
  const float* b2 = nullptr;  // [c]
  const float* ln_scale = nullptr;  // [c]
  const float* ln_offset = nullptr;  // [c]
  float eps = 1e-5f;
  int64_t rows = 0, c = 0, hidden = 0;
  void* partial = nullptr;  // [rows, c] bf16 scratch, dense; needed when transition_passes(c, hidden) == 2
};

// The widths the kernel is built for (AlphaFold's): c = 128 with factor 4 (Evoformer and extra-MSA pair), c = 64
// with factor 4 (extra MSA) or 2 (template pair stack).
inline bool transition_supported(int64_t c, int64_t hidden) {
  return (c == 128 && hidden == 512) || (c == 64 && (hidden == 256 || hidden == 128));
}
// Bytes per element of the two-pass scratch (bf16).
constexpr int64_t kTransitionScratchBytes = 2;
// Passes over the rows: 2 where both weight matrices do not fit one block's shared memory (they are split by hidden
// units, and the update goes through `partial`), else 1.
inline int transition_passes(int64_t c, int64_t hidden) { return c * hidden > 128 * 256 ? 2 : 1; }

// Rows per launch of the two passes: as many as their scratch of c bf16 values per row fits `budget` bytes (at
// least one); 0 for the one-pass widths, which take no scratch.
inline int64_t transition_scratch_rows(int64_t rows, int64_t c, int64_t hidden, int64_t budget) {
  if (transition_passes(c, hidden) == 1) return 0;
  const int64_t fit = budget / (c * kTransitionScratchBytes);
  return fit < 1 ? 1 : (fit < rows ? fit : (rows < 1 ? 1 : rows));
}

// True when the kernel takes these rows: supported widths, 16-byte aligned rows and weights, the scratch when needed.
bool transition_fits(const TransitionParams& p);

void launch_transition(const TransitionParams& p, cudaStream_t stream);

}  // namespace axf::kernels
