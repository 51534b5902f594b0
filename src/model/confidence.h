// Confidence metrics from head logits, as AlphaFold's common/confidence.py: per-residue pLDDT (Suppl. 1.9.6),
// predicted aligned error and predicted TM-score (Suppl. 1.9.7). Host tensors in, host tensors out; the
// arithmetic runs in double precision, results are fp32.
#pragma once

#include <vector>

#include "core/tensor.h"

namespace axf::model {

using core::Tensor;

// compute_plddt: logits [L, num_bins] -> pLDDT [L] in 0..100, the expectation over bin centres
// (k + 0.5) / num_bins of softmax(logits), times 100.
Tensor compute_plddt(const Tensor& logits);

// _calculate_bin_centers: breaks [num_bins - 1] -> centres [num_bins]: breaks + step/2, then a catch-all bin one
// step further (step = breaks[1] - breaks[0]).
std::vector<double> aligned_error_bin_centers(const Tensor& breaks);

struct PredictedAlignedError {
  Tensor pae;           // [L, L] expected aligned error (row = alignment frame i, column = residue j), Angstrom
  float max_pae = 0.f;  // the last bin centre: the largest value the expectation can take
};

// compute_predicted_aligned_error: logits [L, L, num_bins], breaks [num_bins - 1].
PredictedAlignedError predicted_aligned_error(const Tensor& logits, const Tensor& breaks);

// The TM-score term per aligned-error bin, 1 / (1 + (c_b / d0)^2), with N and d0 from the residue weights as below.
std::vector<double> tm_score_bin_terms(const Tensor& breaks, int64_t num_res, const Tensor& residue_weights = Tensor());

// pTM from the expected TM-score term of every pair, tm [L, L] (tm[i,j] = sum_b p_ijb tm_b, e.g. computed where the
// logits are by Backend::softmax_expectations), with the weighting and argmax of predicted_tm_score below.
float predicted_tm_score_from_terms(const Tensor& tm, const Tensor& residue_weights = Tensor());

// predicted_tm_score (monomer pTM, AlphaFold v2.3 formula): with w = residue_weights (undefined = all ones),
// N = max(int(sum w), 19), d0 = 1.24 (N - 15)^(1/3) - 1.8, tm[i,j] = sum_b p_ijb / (1 + (c_b / d0)^2),
// per_alignment[i] = sum_j tm[i,j] w_i w_j / (1e-8 + sum_j w_i w_j); returns per_alignment[argmax_i(per_alignment[i]
// w_i)].
float predicted_tm_score(const Tensor& logits, const Tensor& breaks, const Tensor& residue_weights = Tensor());

}  // namespace axf::model
