// Confidence metrics (AlphaFold confidence.py; Suppl. 1.9.6-1.9.7): pLDDT and PAE of one-hot logits are the bin
// centres; pTM against the supplement's formula written out literally; value ranges.
#include <gtest/gtest.h>

#include "model/confidence.h"
#include "model/heads.h"
#include "support/model_test_support.h"

namespace axf::test {
namespace {

constexpr float kBig = 100.f;  // a logit this far above the rest holds all the probability (e^-100 ~ 4e-44)

TEST(Confidence, PlddtOfOneHotLogitIsBinCentre) {
  const int64_t nb = 50;
  for (int64_t k : {0, 1, 17, 49}) {
    Tensor logits = Tensor::zeros({3, nb});
    for (int64_t i = 0; i < 3; ++i) logits.data<float>()[i * nb + k] = kBig;
    const auto plddt = model::compute_plddt(logits).to_vector();
    ASSERT_EQ(plddt.size(), 3u);
    for (float p : plddt) EXPECT_NEAR(p, 100.0 * (k + 0.5) / nb, 1e-4) << "bin " << k;
  }
  // Uniform logits: the mean of the centres, 50.
  EXPECT_NEAR(model::compute_plddt(Tensor::zeros({1, nb})).to_vector()[0], 50.0, 1e-4);
}

TEST(Confidence, PaeOfOneHotLogitIsBinCentre) {
  const int64_t L = 4, nb = 64;
  const Tensor breaks = model::linspace(0.f, 31.f, nb - 1);
  const auto centers = model::aligned_error_bin_centers(breaks);
  ASSERT_EQ(centers.size(), static_cast<size_t>(nb));
  EXPECT_DOUBLE_EQ(centers[0], 0.25);
  EXPECT_DOUBLE_EQ(centers[62], 31.25);
  EXPECT_DOUBLE_EQ(centers[63], 31.75);  // AlphaFold's catch-all bin: one step past the last centre
  Tensor logits = Tensor::zeros({L, L, nb});
  for (int64_t i = 0; i < L; ++i)
    for (int64_t j = 0; j < L; ++j) logits.data<float>()[idx({L, L, nb}, {i, j, (i * 7 + j * 13) % nb})] = kBig;
  const model::PredictedAlignedError pae = model::predicted_aligned_error(logits, breaks);
  EXPECT_EQ(pae.max_pae, 31.75f);
  ASSERT_EQ(pae.pae.shape(), (Shape{L, L}));
  const auto v = pae.pae.to_vector();
  for (int64_t i = 0; i < L; ++i)
    for (int64_t j = 0; j < L; ++j) EXPECT_NEAR(v[i * L + j], centers[(i * 7 + j * 13) % nb], 1e-5) << i << "," << j;
}

// Suppl. 1.9.7 eq. (40)-(41), written out: pTM = max_i (1/N) sum_j E_b[ 1 / (1 + (e_b / d0(N))^2) ] over the
// residues selected by the mask, N = their number, d0(N) = 1.24 (max(N, 19) - 15)^(1/3) - 1.8, e_b = bin centres.
double ptm_reference(const Tensor& logits, const std::vector<double>& centers, const std::vector<int>& mask) {
  const int64_t L = logits.size(0), nb = logits.size(2);
  const auto lg = to_doubles(logits);
  int n = 0;
  for (int m : mask) n += m;
  const double clipped = std::max(n, 19);
  const double d0 = 1.24 * std::pow(clipped - 15.0, 1.0 / 3.0) - 1.8;
  double best = -1;
  for (int64_t i = 0; i < L; ++i) {
    if (!mask[i]) continue;
    double sum = 0;
    for (int64_t j = 0; j < L; ++j) {
      if (!mask[j]) continue;
      double z = 0, e = 0;
      for (int64_t b = 0; b < nb; ++b) z += std::exp(lg[idx({L, L, nb}, {i, j, b})]);
      for (int64_t b = 0; b < nb; ++b)
        e += std::exp(lg[idx({L, L, nb}, {i, j, b})]) / z / (1.0 + (centers[b] / d0) * (centers[b] / d0));
      sum += e;
    }
    best = std::max(best, sum / n);
  }
  return best;
}

TEST(Confidence, PtmMatchesSupplementFormula) {
  const Tensor breaks = model::linspace(0.f, 31.f, 63);
  const auto centers = model::aligned_error_bin_centers(breaks);
  for (int64_t L : {5, 19, 30}) {  // below the clip, at it, above it
    const Tensor logits = random_tensor({L, L, 64}, 100 + L, 2.0f);
    std::vector<int> all(L, 1);
    const double want = ptm_reference(logits, centers, all);
    EXPECT_NEAR(model::predicted_tm_score(logits, breaks), want, 1e-6) << "L " << L;
    EXPECT_NEAR(model::predicted_tm_score(logits, breaks, Tensor::full({L}, 1.f)), want, 1e-6) << "L " << L;
    // Masked residues leave both the frames and the aligned residues.
    std::vector<int> mask(L, 1);
    mask[1] = mask[L - 1] = 0;
    std::vector<float> w(mask.begin(), mask.end());
    EXPECT_NEAR(model::predicted_tm_score(logits, breaks, Tensor::from_vector({L}, w)),
                ptm_reference(logits, centers, mask), 1e-6)
        << "masked, L " << L;
  }
}

TEST(Confidence, ValuesStayInRange) {
  const int64_t L = 9;
  const Tensor breaks = model::linspace(0.f, 31.f, 63);
  for (uint64_t seed : {1, 2, 3}) {
    const Tensor pair_logits = random_tensor({L, L, 64}, seed, 8.0f);
    const float ptm = model::predicted_tm_score(pair_logits, breaks);
    EXPECT_GT(ptm, 0.f);
    EXPECT_LE(ptm, 1.f);
    const auto pae = model::predicted_aligned_error(pair_logits, breaks);
    for (float e : pae.pae.to_vector()) {
      EXPECT_GE(e, 0.25f);
      EXPECT_LE(e, pae.max_pae);
    }
    for (float p : model::compute_plddt(random_tensor({L, 50}, seed, 8.0f)).to_vector()) {
      EXPECT_GE(p, 1.f);  // the lowest bin centre is 1, the highest 99
      EXPECT_LE(p, 99.f);
    }
  }
  // A certain, zero-error prediction gives the largest pTM: every pair in the first bin.
  Tensor sure = Tensor::zeros({L, L, 64});
  for (int64_t ij = 0; ij < L * L; ++ij) sure.data<float>()[ij * 64] = kBig;
  const double d0 = 1.24 * std::cbrt(19.0 - 15.0) - 1.8;
  EXPECT_NEAR(model::predicted_tm_score(sure, breaks), 1.0 / (1.0 + 0.25 * 0.25 / (d0 * d0)), 1e-6);
}

}  // namespace
}  // namespace axf::test
