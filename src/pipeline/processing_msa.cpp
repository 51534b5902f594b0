// The MSA transforms of AlphaFold's input pipeline (data_transforms.py): profile, sampling, BERT masking,
// nearest-neighbour clustering, cluster summaries, extra-MSA cropping, msa_feat. See feature_processing.h.
#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/error.h"
#include "pipeline/feature_processing.h"

namespace axf::pipeline {

namespace {

// Fisher-Yates shuffle driven by the shared generator (the tf.random_shuffle of AlphaFold).
void shuffle(std::vector<int64_t>& v, core::Random& rng) {
  for (size_t i = v.size(); i > 1; --i) {
    const size_t j = static_cast<size_t>(rng.below(i));
    std::swap(v[i - 1], v[j]);
  }
}

}  // namespace

MsaRows MsaRows::select(const std::vector<int64_t>& rows) const {
  MsaRows out;
  out.num_res = num_res;
  out.msa.resize(rows.size() * num_res);
  out.deletion.resize(rows.size() * num_res);
  for (size_t i = 0; i < rows.size(); ++i) {
    const int64_t r = rows[i];
    AXF_CHECK(r >= 0 && r < num_seq(), "MSA row ", r, " out of range [0, ", num_seq(), ")");
    std::copy_n(msa.begin() + r * num_res, num_res, out.msa.begin() + i * num_res);
    std::copy_n(deletion.begin() + r * num_res, num_res, out.deletion.begin() + i * num_res);
  }
  return out;
}

std::vector<float> make_hhblits_profile(const MsaRows& msa) {
  const int64_t n = msa.num_seq(), L = msa.num_res;
  std::vector<double> counts(L * 22, 0.0);
  for (int64_t s = 0; s < n; ++s) {
    for (int64_t l = 0; l < L; ++l) {
      const int32_t a = msa.msa[s * L + l];
      if (a >= 0 && a < 22) counts[l * 22 + a] += 1.0;  // tf.one_hot gives zeros outside [0, depth)
    }
  }
  std::vector<float> profile(L * 22, 0.0f);
  if (n > 0)
    for (size_t i = 0; i < counts.size(); ++i) profile[i] = static_cast<float>(counts[i] / static_cast<double>(n));
  return profile;
}

MsaSplit sample_msa(const MsaRows& msa, int64_t max_seq, core::Random& rng) {
  const int64_t n = msa.num_seq();
  AXF_CHECK(n > 0, "sample_msa: the MSA has no rows (the query must be row 0)");
  AXF_CHECK(max_seq > 0, "sample_msa: max_msa_clusters must be positive, got ", max_seq);
  std::vector<int64_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::vector<int64_t> rest(order.begin() + 1, order.end());
  shuffle(rest, rng);
  std::copy(rest.begin(), rest.end(), order.begin() + 1);
  const int64_t num_sel = std::min(max_seq, n);
  MsaSplit split;
  split.sampled = msa.select(std::vector<int64_t>(order.begin(), order.begin() + num_sel));
  split.extra = msa.select(std::vector<int64_t>(order.begin() + num_sel, order.end()));
  return split;
}

BertMasking make_masked_msa(MsaRows& sampled, const std::vector<float>& hhblits_profile, const ProcessingConfig& cfg,
                            core::Random& rng) {
  const int64_t S = sampled.num_seq(), L = sampled.num_res;
  AXF_CHECK(static_cast<int64_t>(hhblits_profile.size()) == L * 22, "make_masked_msa: hhblits_profile has ",
            hhblits_profile.size(), " values, expected ", L * 22);
  const double mask_prob = 1.0 - cfg.profile_prob - cfg.same_prob - cfg.uniform_prob;
  AXF_CHECK(mask_prob >= 0.0, "make_masked_msa: profile_prob + same_prob + uniform_prob = ",
            cfg.profile_prob + cfg.same_prob + cfg.uniform_prob, " exceeds 1");
  constexpr double kEpsilon = 1e-10;  // shaped_categorical's epsilon before the log
  BertMasking out;
  out.true_msa = sampled.msa;
  out.bert_mask.assign(S * L, 0.0f);
  std::array<double, kMsaClasses> probs{};
  for (int64_t i = 0; i < S * L; ++i) {
    if (!(rng.uniform() < cfg.masked_msa_replace_fraction)) continue;
    const int64_t l = i % L;
    const int32_t a = sampled.msa[i];
    double total = 0.0;
    for (int k = 0; k < 22; ++k) {
      probs[k] = cfg.uniform_prob * (k < 20 ? 0.05 : 0.0) + cfg.profile_prob * hhblits_profile[l * 22 + k] +
                 cfg.same_prob * (a == k ? 1.0 : 0.0) + kEpsilon;
      total += probs[k];
    }
    probs[kMsaMaskToken] = mask_prob + kEpsilon;
    total += probs[kMsaMaskToken];
    double u = rng.uniform() * total;
    int token = kMsaMaskToken;
    for (int k = 0; k < kMsaClasses; ++k) {
      if (u < probs[k]) {
        token = k;
        break;
      }
      u -= probs[k];
    }
    sampled.msa[i] = token;
    out.bert_mask[i] = 1.0f;
  }
  return out;
}

std::vector<int32_t> nearest_neighbor_clusters(const MsaRows& sampled, const MsaRows& extra) {
  const int64_t S = sampled.num_seq(), E = extra.num_seq(), L = sampled.num_res;
  AXF_CHECK(E == 0 || extra.num_res == L, "nearest_neighbor_clusters: extra rows have ", extra.num_res,
            " residues, clusters ", L);
  // Clusters grouped by (position, token) so that an extra row only visits the clusters it agrees with:
  // agreement = sum over positions of [extra token == cluster token], tokens 0..20 weighing 1, gap and
  // [MASK] weighing 0 (AlphaFold's weights: ones(21), gap_agreement_weight = 0, zeros(1)).
  constexpr int kWeighted = 21;
  std::vector<int64_t> bucket_start(L * kWeighted + 1, 0);
  for (int64_t c = 0; c < S; ++c)
    for (int64_t l = 0; l < L; ++l) {
      const int32_t a = sampled.msa[c * L + l];
      if (a >= 0 && a < kWeighted) ++bucket_start[l * kWeighted + a + 1];
    }
  std::partial_sum(bucket_start.begin(), bucket_start.end(), bucket_start.begin());
  std::vector<int32_t> bucket(bucket_start.back());
  {
    std::vector<int64_t> fill(bucket_start.begin(), bucket_start.end() - 1);
    for (int64_t c = 0; c < S; ++c)
      for (int64_t l = 0; l < L; ++l) {
        const int32_t a = sampled.msa[c * L + l];
        if (a >= 0 && a < kWeighted) bucket[fill[l * kWeighted + a]++] = static_cast<int32_t>(c);
      }
  }
  std::vector<int32_t> assignment(E, 0);
#pragma omp parallel
  {
    std::vector<int32_t> score(S);
#pragma omp for schedule(static)
    for (int64_t e = 0; e < E; ++e) {
      std::fill(score.begin(), score.end(), 0);
      for (int64_t l = 0; l < L; ++l) {
        const int32_t a = extra.msa[e * L + l];
        if (a < 0 || a >= kWeighted) continue;
        const int64_t key = l * kWeighted + a;
        for (int64_t j = bucket_start[key]; j < bucket_start[key + 1]; ++j) ++score[bucket[j]];
      }
      // argmax: the first maximum wins.
      assignment[e] = static_cast<int32_t>(std::max_element(score.begin(), score.end()) - score.begin());
    }
  }
  return assignment;
}

ClusterSummary summarize_clusters(const MsaRows& sampled, const MsaRows& extra, const std::vector<int32_t>& assignment) {
  const int64_t S = sampled.num_seq(), E = extra.num_seq(), L = sampled.num_res;
  AXF_CHECK(static_cast<int64_t>(assignment.size()) == E, "summarize_clusters: ", assignment.size(),
            " assignments for ", E, " extra rows");
  // Segment sums (exact: integer counts in float32 as long as they stay below 2^24).
  std::vector<float> msa_sum(S * L * kMsaClasses, 0.0f), del_sum(S * L, 0.0f);
  std::vector<float> assigned(S, 0.0f);
  for (int64_t e = 0; e < E; ++e) {
    const int64_t c = assignment[e];
    AXF_CHECK(c >= 0 && c < S, "summarize_clusters: extra row ", e, " assigned to cluster ", c, " of ", S);
    assigned[c] += 1.0f;
    for (int64_t l = 0; l < L; ++l) {
      const int32_t a = extra.msa[e * L + l];
      if (a >= 0 && a < kMsaClasses) msa_sum[(c * L + l) * kMsaClasses + a] += 1.0f;
      del_sum[c * L + l] += extra.deletion[e * L + l];
    }
  }
  ClusterSummary out;
  out.profile.resize(S * L * kMsaClasses);
  out.deletion_mean.resize(S * L);
  for (int64_t c = 0; c < S; ++c) {
    // mask_counts = 1e-6 + msa_mask + csum(extra_msa_mask), evaluated left to right in float32.
    const float mask_count = (1e-6f + 1.0f) + assigned[c];
    for (int64_t l = 0; l < L; ++l) {
      const int64_t cl = c * L + l;
      const int32_t a = sampled.msa[cl];
      if (a >= 0 && a < kMsaClasses) msa_sum[cl * kMsaClasses + a] += 1.0f;  // the centre itself
      for (int k = 0; k < kMsaClasses; ++k) out.profile[cl * kMsaClasses + k] = msa_sum[cl * kMsaClasses + k] / mask_count;
      out.deletion_mean[cl] = (del_sum[cl] + sampled.deletion[cl]) / mask_count;
    }
  }
  return out;
}

void crop_extra_msa(MsaRows& extra, int64_t max_extra, core::Random& rng) {
  const int64_t n = extra.num_seq();
  std::vector<int64_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  shuffle(order, rng);
  order.resize(std::min<int64_t>(std::max<int64_t>(max_extra, 0), n));
  extra = extra.select(order);
}

float has_deletion(float deletion) { return std::clamp(deletion, 0.0f, 1.0f); }

float deletion_value(float deletion) {
  return std::atan(deletion / 3.0f) * static_cast<float>(2.0 / M_PI);
}

std::vector<float> make_msa_feat(const MsaRows& sampled, const ClusterSummary& clusters) {
  const int64_t S = sampled.num_seq(), L = sampled.num_res;
  AXF_CHECK(static_cast<int64_t>(clusters.profile.size()) == S * L * kMsaClasses &&
                static_cast<int64_t>(clusters.deletion_mean.size()) == S * L,
            "make_msa_feat: cluster summary does not match ", S, " clusters of ", L, " residues");
  std::vector<float> feat(S * L * kMsaFeatChannels, 0.0f);
  for (int64_t i = 0; i < S * L; ++i) {
    float* f = feat.data() + i * kMsaFeatChannels;
    const int32_t a = sampled.msa[i];
    if (a >= 0 && a < kMsaClasses) f[a] = 1.0f;
    f[23] = has_deletion(sampled.deletion[i]);
    f[24] = deletion_value(sampled.deletion[i]);
    std::copy_n(clusters.profile.data() + i * kMsaClasses, kMsaClasses, f + 25);
    f[48] = deletion_value(clusters.deletion_mean[i]);
  }
  return feat;
}

}  // namespace axf::pipeline
