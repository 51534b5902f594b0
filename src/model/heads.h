// The output heads of AlphaFold (Suppl. 1.9; AlphaFold modules.py): DistogramHead (1.9.8), PredictedLDDTHead
// (1.9.6, Alg. 29), PredictedAlignedErrorHead (1.9.7, _ptm presets only), MaskedMsaHead (1.9.9) and
// ExperimentallyResolvedHead (1.9.10). Inputs live on the backend's device; the logits come back as host tensors.
// Shapes: L residues, S MSA rows (without template rows), c_s / c_z / c_m single, pair and MSA channels.
#pragma once

#include "model/config.h"
#include "model/params.h"
#include "runtime/execution_context.h"

namespace axf::model {

struct HeadOutputs {
  Tensor distogram_logits;                // [L, L, num_bins] host, symmetric (half_logits + half_logits^T);
                                          // undefined when HeadsOptions::distogram_logits is off
  Tensor distogram_bin_edges;             // [num_bins - 1] linspace(first_break, last_break, num_bins - 1)
  Tensor plddt_logits;                    // [L, plddt_num_bins] host
  Tensor masked_msa_logits;               // [S, L, masked_msa_num_output] host
  Tensor experimentally_resolved_logits;  // [L, 37] host
  Tensor pae_logits;                      // [L, L, pae_num_bins] host; undefined unless heads.predicted_aligned_error
                                          // and HeadsOptions::pae_logits
  Tensor pae;                             // [L, L] host: expected aligned error (confidence.h's
                                          // predicted_aligned_error), computed on the device; with the PAE head
  Tensor tm_terms;                        // [L, L] host: expected TM-score term per pair (the input of
                                          // predicted_tm_score_from_terms), computed on the device; with the PAE head
  Tensor pae_breaks;                      // [pae_num_bins - 1] linspace(0, pae_max_error_bin, num_bins - 1); undefined
                                          // unless heads.predicted_aligned_error
};

// AlphaFold's jnp.linspace(start, stop, num) in single precision (the breaks the heads return).
Tensor linspace(float start, float stop, int64_t num);

// What the caller needs besides the heads every prediction reports (pLDDT, PAE and pTM, masked MSA, experimentally
// resolved): the distogram and PAE logits are [L, L, 64] fp32 on the host (25.6 GB each at L = 10,000), so a caller
// that does not write them can leave them on the device (those HeadOutputs stay undefined; the bin edges and breaks
// are still given).
struct HeadsOptions {
  bool distogram_logits = true;
  // The PAE head's [L, L, bins] logits to the host too; the expected aligned error and the pTM terms
  // (HeadOutputs::pae, tm_terms) are computed on the device either way.
  bool pae_logits = true;
  Tensor residue_weights;  // host [L] for the pTM terms' d0 (predicted_tm_score); undefined = all ones
};

// The [L, L, *] arrays of a prediction's result file, the pair representation [L, L, c_z] and the distogram logits
// [L, L, bins] in fp32: their bytes, and whether they are written by default (predict --pair-arrays auto, and
// bench's heads): up to kPairArraysAutoBytes.
constexpr int64_t kPairArraysAutoBytes = int64_t{4} << 30;
int64_t pair_array_bytes(int64_t num_res, const ModelConfig& cfg);
bool pair_arrays_by_default(int64_t num_res, const ModelConfig& cfg);

// Runs every head of the config. single: trunk single [L, c_s]; pair [L, L, c_z]; msa [S, L, c_m];
// structure_single: the structure module's final activations [L, c_s] (input of the pLDDT head). The [L, L, *]
// heads work ctx.chunks().pair_rows rows at a time, the masked-MSA head ctx.chunks().msa_rows sequences at a time.
HeadOutputs run_heads(runtime::ExecutionContext& ctx, const Params& params, const ModelConfig& cfg,
                      const Tensor& single, const Tensor& pair, const Tensor& msa, const Tensor& structure_single,
                      const HeadsOptions& options = {});

}  // namespace axf::model
