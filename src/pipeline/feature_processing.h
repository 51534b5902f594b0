// Feature processing: AlphaFold's inference-time input pipeline (alphafold/model/tf/input_pipeline.py, "eval"
// mode, monomer config) turning raw features (data pipeline output) into model inputs under AlphaFold's names.
// L residues, N raw MSA rows, S sampled clusters (padded to max_msa_clusters), E extra rows (padded to
// max_extra_msa), T templates (padded to max_templates).
//
// Randomness enters at exactly three places per recycling sample, all drawn from one core::Random seeded with
// ProcessingConfig::seed, in this order: (1) sample_msa's shuffle of MSA rows 1..N-1, (2) make_masked_msa's
// BERT positions and their replacement tokens, (3) crop_extra_msa's shuffle of the extra rows. AlphaFold draws
// these from TensorFlow's RNG, so only the distribution (not the bits) matches AlphaFold; everything else is
// deterministic and follows AlphaFold's arithmetic (float32, same operation order).
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/random.h"
#include "core/tensor.h"
#include "model/config.h"

namespace axf::pipeline {

struct ProcessingConfig {
  int max_msa_clusters = 512;   // data.eval.max_msa_clusters
  int max_extra_msa = 1024;     // data.common.max_extra_msa (0: no extra MSA features, as AlphaFold)
  int max_templates = 4;        // data.eval.max_templates
  bool reduce_msa_clusters_by_max_templates = false;  // clusters = max_msa_clusters - max_templates
  bool use_templates = true;    // data.common.use_templates: template_* features are produced (padded)
  int num_recycle = 3;          // data.common.num_recycle
  // AlphaFold (resample_msa_in_recycling) draws num_recycle + 1 independent samples. false: one sample, no
  // sample axis. true: all num_recycle + 1 samples stacked on a trailing axis (OpenFold's layout, as in
  // shared/data/features/query73_model_inputs.npz); sample 0 is identical to the single-sample output.
  bool all_recycling_samples = false;
  double masked_msa_replace_fraction = 0.15;  // data.eval.masked_msa_replace_fraction
  double profile_prob = 0.1, same_prob = 0.1, uniform_prob = 0.1;  // data.common.masked_msa
  uint64_t seed = 0;
};

// From a model preset as AlphaFold does (data.common / data.eval; max_templates from the template config).
ProcessingConfig processing_config(const model::ModelConfig& cfg);
// Rows of the sampled (cluster) MSA after padding: max_msa_clusters, less max_templates when reduced.
int num_msa_clusters(const ProcessingConfig& cfg);

using FeatureMap = std::map<std::string, core::Tensor>;

// raw: AlphaFold's raw feature arrays (any numeric dtype): aatype [L, 21] one-hot (or [L] indices),
// residue_index [L], between_segment_residues [L] (optional), seq_length (optional), msa [N, L] (HHblits
// order), deletion_matrix_int or deletion_matrix [N, L], optional hhblits_profile [L, 22]; with templates:
// template_aatype [T, L, 22] one-hot (HHblits order), template_all_atom_positions [T, L, 37, 3],
// template_all_atom_masks or template_all_atom_mask [T, L, 37], template_sum_probs [T, 1] (optional).
// Other keys (sequence, domain_name, num_alignments, ...) are ignored.
// Returns (int32 for integer features, fp32 otherwise): aatype [L], residue_index [L], seq_length [],
// seq_mask [L], target_feat [L, 22], msa_feat [S, L, 49], msa_mask [S, L], msa_row_mask [S], bert_mask [S, L],
// true_msa [S, L], extra_msa [E, L], extra_msa_mask [E, L], extra_msa_row_mask [E], extra_has_deletion [E, L],
// extra_deletion_value [E, L], atom14_atom_exists [L, 14], residx_atom14_to_atom37 [L, 14],
// residx_atom37_to_atom14 [L, 37], atom37_atom_exists [L, 37]; with templates: template_aatype [T, L],
// template_all_atom_positions [T, L, 37, 3], template_all_atom_mask(s) [T, L, 37] (the raw name is kept),
// template_sum_probs [T, 1], template_mask [T], template_pseudo_beta [T, L, 3], template_pseudo_beta_mask
// [T, L], and OpenFold's template_torsion_angles_sin_cos / template_alt_torsion_angles_sin_cos [T, L, 7, 2],
// template_torsion_angles_mask [T, L, 7]. Padding rows are zero, masks included.
FeatureMap process_features(const FeatureMap& raw, const ProcessingConfig& cfg);

// ---- The individual transforms (data_transforms.py), exposed for tests ---------------------------------

inline constexpr int kMsaGap = 21;        // '-' in AlphaFold's order
inline constexpr int kMsaMaskToken = 22;  // BERT [MASK]
inline constexpr int kMsaClasses = 23;    // one-hot width of MSA tokens
inline constexpr int kMsaFeatChannels = 49;
inline constexpr int kTargetFeatChannels = 22;

// AlphaFold's residue_constants.MAP_HHBLITS_AATYPE_TO_OUR_AATYPE (HHblits ids ACDEFGHIKLMNPQRSTVWYX- to
// AlphaFold's ARNDCQEGHILKMFPSTWYVX-).
inline constexpr std::array<int32_t, 22> kHhblitsToAlphaFold = {0,  4,  3,  6,  13, 7,  8,  9,  11, 10, 12,
                                                                2,  14, 5,  1,  15, 16, 19, 17, 18, 20, 21};

// MSA rows with their deletion counts. Before padding every row is real: AlphaFold's msa_mask and
// extra_msa_mask are all ones there (make_msa_mask), so the transforms below take them as implicit ones.
struct MsaRows {
  int64_t num_res = 0;
  std::vector<int32_t> msa;     // [n, L] tokens in AlphaFold's order (0..21; 22 after BERT masking)
  std::vector<float> deletion;  // [n, L] deletion counts
  int64_t num_seq() const { return num_res > 0 ? static_cast<int64_t>(msa.size()) / num_res : 0; }
  MsaRows select(const std::vector<int64_t>& rows) const;  // tf.gather(rows)
};

// make_hhblits_profile: mean one-hot (22 classes) over all rows, [L, 22].
std::vector<float> make_hhblits_profile(const MsaRows& msa);

// sample_msa(keep_extra=True): row 0 first, rows 1..N-1 shuffled; the first min(max_seq, N) are the clusters,
// the rest the extra MSA.
struct MsaSplit {
  MsaRows sampled;
  MsaRows extra;
};
MsaSplit sample_msa(const MsaRows& msa, int64_t max_seq, core::Random& rng);

// make_masked_msa: each position is picked with probability replace_fraction and replaced by a token drawn
// from uniform_prob * (1/20 over the 20 amino acids) + profile_prob * hhblits_profile + same_prob * one-hot +
// (1 - the three) * [MASK]. Changes `sampled.msa`; returns the original tokens and the picked positions.
struct BertMasking {
  std::vector<int32_t> true_msa;  // [S, L]
  std::vector<float> bert_mask;   // [S, L] 1 where picked
};
BertMasking make_masked_msa(MsaRows& sampled, const std::vector<float>& hhblits_profile, const ProcessingConfig& cfg,
                            core::Random& rng);

// nearest_neighbor_clusters(gap_agreement_weight=0): each extra row goes to the cluster sharing the most
// positions with it, counting agreement on tokens 0..20 only (gaps and [MASK] weigh 0); ties go to the
// lowest cluster index (argmax). Returns [E] cluster indices.
std::vector<int32_t> nearest_neighbor_clusters(const MsaRows& sampled, const MsaRows& extra);

// summarize_clusters: per cluster and position, the 23-class profile and the mean deletion count over the
// centre and its assigned extra rows, divided by (1e-6 + 1 + assigned count) in float32 as AlphaFold does.
struct ClusterSummary {
  std::vector<float> profile;        // [S, L, 23]
  std::vector<float> deletion_mean;  // [S, L]
};
ClusterSummary summarize_clusters(const MsaRows& sampled, const MsaRows& extra, const std::vector<int32_t>& assignment);

// crop_extra_msa: a random min(max_extra, E) of the extra rows, in shuffled order.
void crop_extra_msa(MsaRows& extra, int64_t max_extra, core::Random& rng);

// make_msa_feat's scalings: clip(d, 0, 1) and atan(d / 3) * 2 / pi, in float32.
float has_deletion(float deletion);
float deletion_value(float deletion);

// make_msa_feat: [S, L, 49] = one-hot(msa, 23), has_deletion, deletion_value, cluster profile (23),
// deletion_value(cluster deletion mean).
std::vector<float> make_msa_feat(const MsaRows& sampled, const ClusterSummary& clusters);

}  // namespace axf::pipeline
