// The output heads (Suppl. 1.9.6-1.9.10; AlphaFold modules.py) against literal double-precision implementations:
// distogram (symmetrised half logits), pLDDT MLP, PAE, masked MSA and experimentally resolved linears; the bin
// breaks; symmetry of the distogram; the expected aligned error and pTM terms computed with the logits; results
// unchanged by row chunking.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "model/confidence.h"
#include "model/heads.h"
#include "support/model_test_support.h"

namespace axf::test {
namespace {

// out[n, o] = b[o] + sum_i x[n, i] w[i, o] for rows of x.
std::vector<double> linear_ref(const std::vector<double>& x, const model::Scope& s, bool relu = false) {
  const auto w = to_doubles(s["weights"]), b = to_doubles(s["bias"]);
  const int64_t cout = static_cast<int64_t>(b.size()), cin = static_cast<int64_t>(w.size()) / cout;
  const int64_t n = static_cast<int64_t>(x.size()) / cin;
  std::vector<double> out(static_cast<size_t>(n * cout));
  for (int64_t r = 0; r < n; ++r)
    for (int64_t o = 0; o < cout; ++o) {
      double acc = b[o];
      for (int64_t i = 0; i < cin; ++i) acc += x[r * cin + i] * w[i * cout + o];
      out[r * cout + o] = relu && acc < 0 ? 0.0 : acc;
    }
  return out;
}

class Heads : public ::testing::Test {
 protected:
  void SetUp() override {
    backend_ = backend::make_cpu_backend();
    cfg_ = small_config();  // model_1_ptm: the PAE head is on
    const std::string root = std::string(model::kRootScope) + "/";
    uint64_t seed = 11;
    for (const char* head : {"distogram_head", "predicted_lddt_head", "predicted_aligned_error_head", "masked_msa_head",
                             "experimentally_resolved_head"})
      add_random_params(params_, cfg_, root + head, ++seed);
    single_ = random_tensor({L, cfg_.seq_channel}, 1);
    pair_ = random_tensor({L, L, cfg_.pair_channel}, 2);
    msa_ = random_tensor({S, L, cfg_.msa_channel}, 3);
    sm_single_ = random_tensor({L, cfg_.structure_module.num_channel}, 4);
  }
  model::HeadOutputs run(runtime::ChunkConfig chunks = {}, const model::HeadsOptions& options = {}) {
    runtime::ExecutionContext ctx(*backend_, comm_, chunks);
    return model::run_heads(ctx, params_, cfg_, single_, pair_, msa_, sm_single_, options);
  }
  model::Scope scope(const std::string& path) const {
    return model::Scope(params_, std::string(model::kRootScope) + "/" + path);
  }

  static constexpr int64_t L = 7, S = 5;
  std::unique_ptr<backend::Backend> backend_;
  parallel::SelfCommunicator comm_;
  model::ModelConfig cfg_;
  model::Params params_;
  Tensor single_, pair_, msa_, sm_single_;
};

TEST_F(Heads, DistogramIsHalfLogitsPlusTranspose) {
  const model::HeadOutputs out = run();
  const int64_t nb = cfg_.heads.distogram_num_bins;
  ASSERT_EQ(out.distogram_logits.shape(), (Shape{L, L, nb}));
  EXPECT_EQ(out.distogram_logits.device(), core::Device::CPU);
  const auto half = linear_ref(to_doubles(pair_), scope("distogram_head/half_logits"));
  std::vector<double> want(static_cast<size_t>(L * L * nb));
  for (int64_t i = 0; i < L; ++i)
    for (int64_t j = 0; j < L; ++j)
      for (int64_t k = 0; k < nb; ++k)
        want[idx({L, L, nb}, {i, j, k})] = half[idx({L, L, nb}, {i, j, k})] + half[idx({L, L, nb}, {j, i, k})];
  const auto got = to_doubles(out.distogram_logits);
  EXPECT_LT(max_rel_error(got, want), 1e-5);
  // Symmetric in (i, j) up to fp32 summation order.
  double asym = 0;
  for (int64_t i = 0; i < L; ++i)
    for (int64_t j = 0; j < L; ++j)
      for (int64_t k = 0; k < nb; ++k)
        asym = std::max(asym, std::fabs(got[idx({L, L, nb}, {i, j, k})] - got[idx({L, L, nb}, {j, i, k})]));
  EXPECT_LT(asym, 1e-5 * max_abs(got));

  // AlphaFold: linspace(2.3125, 21.6875, 63), steps of 0.3125.
  ASSERT_EQ(out.distogram_bin_edges.shape(), (Shape{nb - 1}));
  const auto edges = out.distogram_bin_edges.to_vector();
  for (int64_t k = 0; k < nb - 1; ++k) EXPECT_FLOAT_EQ(edges[k], 2.3125f + 0.3125f * static_cast<float>(k)) << k;
  EXPECT_EQ(edges.back(), 21.6875f);
}

TEST_F(Heads, PlddtHeadOnStructureModuleActivations) {
  const model::HeadOutputs out = run();
  ASSERT_EQ(out.plddt_logits.shape(), (Shape{L, cfg_.heads.plddt_num_bins}));
  const model::Scope s = scope("predicted_lddt_head");
  const int64_t c = sm_single_.size(1);
  const auto x = to_doubles(sm_single_);
  const auto g = to_doubles(s.sub("input_layer_norm")["scale"]), b = to_doubles(s.sub("input_layer_norm")["offset"]);
  std::vector<double> normed(x.size());
  for (int64_t r = 0; r < L; ++r) layer_norm_ref(&x[r * c], g.data(), b.data(), c, &normed[r * c]);
  const auto h0 = linear_ref(normed, s.sub("act_0"), true);
  const auto h1 = linear_ref(h0, s.sub("act_1"), true);
  const auto want = linear_ref(h1, s.sub("logits"));
  EXPECT_LT(max_rel_error(to_doubles(out.plddt_logits), want), 1e-5);
}

TEST_F(Heads, LinearHeadsOnTheirRepresentations) {
  const model::HeadOutputs out = run();
  ASSERT_EQ(out.masked_msa_logits.shape(), (Shape{S, L, cfg_.heads.masked_msa_num_output}));
  EXPECT_LT(
      max_rel_error(to_doubles(out.masked_msa_logits), linear_ref(to_doubles(msa_), scope("masked_msa_head/logits"))),
      1e-5);
  ASSERT_EQ(out.experimentally_resolved_logits.shape(), (Shape{L, 37}));
  EXPECT_LT(max_rel_error(to_doubles(out.experimentally_resolved_logits),
                          linear_ref(to_doubles(single_), scope("experimentally_resolved_head/logits"))),
            1e-5);
  ASSERT_TRUE(out.pae_logits.defined());
  ASSERT_EQ(out.pae_logits.shape(), (Shape{L, L, cfg_.heads.pae_num_bins}));
  EXPECT_LT(max_rel_error(to_doubles(out.pae_logits),
                          linear_ref(to_doubles(pair_), scope("predicted_aligned_error_head/logits"))),
            1e-5);
  // AlphaFold: linspace(0, max_error_bin = 31, num_bins - 1 = 63), steps of 0.5.
  const auto breaks = out.pae_breaks.to_vector();
  ASSERT_EQ(breaks.size(), 63u);
  for (size_t k = 0; k < breaks.size(); ++k) EXPECT_EQ(breaks[k], 0.5f * static_cast<float>(k)) << k;
}

// The expected aligned error and the pTM terms the head computes where its logits are (softmax_expectations) equal
// confidence.h's host computation from the logits; pTM from the terms equals pTM from the logits, with and without
// residue weights; leaving the logits on the device changes nothing else.
TEST_F(Heads, AlignedErrorAndPtmTermsMatchTheLogits) {
  const std::vector<float> weights{1, 1, 0, 1, 1, 0.5f, 1};
  for (const bool weighted : {false, true}) {
    model::HeadsOptions options;
    if (weighted) options.residue_weights = Tensor::from_vector({L}, weights);
    const model::HeadOutputs out = run({}, options);
    ASSERT_TRUE(out.pae.defined() && out.tm_terms.defined() && out.pae_logits.defined());
    ASSERT_EQ(out.pae.shape(), (Shape{L, L}));
    const model::PredictedAlignedError want = model::predicted_aligned_error(out.pae_logits, out.pae_breaks);
    EXPECT_LT(max_rel_error(to_doubles(out.pae), to_doubles(want.pae)), 1e-6);
    // tm_terms[i, j] = sum_b softmax(logits[i, j])_b / (1 + (c_b / d0)^2), literally.
    const std::vector<double> terms = model::tm_score_bin_terms(out.pae_breaks, L, options.residue_weights);
    const auto logits = to_doubles(out.pae_logits);
    const int64_t nb = cfg_.heads.pae_num_bins;
    std::vector<double> tm_want(static_cast<size_t>(L * L));
    for (int64_t ij = 0; ij < L * L; ++ij) {
      double m = -1e300, z = 0, acc = 0;
      for (int64_t b = 0; b < nb; ++b) m = std::max(m, logits[ij * nb + b]);
      for (int64_t b = 0; b < nb; ++b) {
        z += std::exp(logits[ij * nb + b] - m);
        acc += std::exp(logits[ij * nb + b] - m) * terms[b];
      }
      tm_want[ij] = acc / z;
    }
    EXPECT_LT(max_rel_error(to_doubles(out.tm_terms), tm_want), 1e-6);
    EXPECT_NEAR(model::predicted_tm_score_from_terms(out.tm_terms, options.residue_weights),
                model::predicted_tm_score(out.pae_logits, out.pae_breaks, options.residue_weights), 1e-6)
        << "weighted " << weighted;

    options.pae_logits = false;
    options.distogram_logits = false;
    const model::HeadOutputs lean = run({}, options);
    EXPECT_FALSE(lean.pae_logits.defined());
    EXPECT_FALSE(lean.distogram_logits.defined());
    EXPECT_TRUE(lean.distogram_bin_edges.defined());
    EXPECT_EQ(to_doubles(lean.pae), to_doubles(out.pae));
    EXPECT_EQ(to_doubles(lean.tm_terms), to_doubles(out.tm_terms));
    EXPECT_EQ(to_doubles(lean.plddt_logits), to_doubles(out.plddt_logits));
  }
}

TEST_F(Heads, NoPaeHeadWithoutPtm) {
  cfg_.heads.predicted_aligned_error = false;
  const model::HeadOutputs out = run();
  EXPECT_FALSE(out.pae_logits.defined());
  EXPECT_FALSE(out.pae.defined());
  EXPECT_FALSE(out.tm_terms.defined());
  EXPECT_FALSE(out.pae_breaks.defined());
  EXPECT_TRUE(out.distogram_logits.defined());
}

TEST_F(Heads, ChunkingDoesNotChangeResults) {
  const model::HeadOutputs whole = run();
  for (int64_t rows : {1, 3, 6}) {
    runtime::ChunkConfig c;
    c.pair_rows = rows;
    c.msa_rows = rows % 4 + 1;
    const model::HeadOutputs part = run(c);
    EXPECT_LT(max_rel_error(to_doubles(part.distogram_logits), to_doubles(whole.distogram_logits)), 1e-6) << rows;
    EXPECT_LT(max_rel_error(to_doubles(part.pae_logits), to_doubles(whole.pae_logits)), 1e-6) << rows;
    EXPECT_LT(max_rel_error(to_doubles(part.pae), to_doubles(whole.pae)), 1e-6) << rows;
    EXPECT_LT(max_rel_error(to_doubles(part.tm_terms), to_doubles(whole.tm_terms)), 1e-6) << rows;
    EXPECT_LT(max_rel_error(to_doubles(part.masked_msa_logits), to_doubles(whole.masked_msa_logits)), 1e-6) << rows;
    EXPECT_EQ(to_doubles(part.plddt_logits), to_doubles(whole.plddt_logits));
    EXPECT_EQ(to_doubles(part.experimentally_resolved_logits), to_doubles(whole.experimentally_resolved_logits));
  }
}

TEST(HeadsLinspace, MatchesNumpy) {
  const auto v = model::linspace(0.f, 1.f, 5).to_vector();
  EXPECT_EQ(v, (std::vector<float>{0.f, 0.25f, 0.5f, 0.75f, 1.f}));
}

}  // namespace
}  // namespace axf::test
