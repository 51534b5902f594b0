// Input embedder with relpos (Suppl. Alg. 3-5), recycling embedder (Alg. 32), extra-MSA embedding and the
// template torsion-angle rows, each against a literal double-precision implementation.
#include <gtest/gtest.h>

#include "model/embedders.h"
#include "model/template_geometry.h"
#include "support/model_test_support.h"

namespace axf::test {
namespace {

class Embedders : public ::testing::Test {
 protected:
  void SetUp() override {
    backend_ = backend::make_cpu_backend();
    cfg_ = small_config();
    add_random_params(params_, cfg_, std::string(model::kRootScope) + "/evoformer/", 17);
    in_ = random_model_inputs(L, S, E, T, 4);
  }
  model::Scope evo() const { return model::Scope(params_, std::string(model::kRootScope) + "/evoformer"); }
  // out[k] = x . W[:, k] + b[k] for a [Cin, Cout] weight in double.
  std::vector<double> lin(const std::string& name, const std::vector<double>& x) const {
    const auto w = to_doubles(evo().sub(name)["weights"]), b = to_doubles(evo().sub(name)["bias"]);
    const size_t cout = b.size(), cin = w.size() / cout;
    std::vector<double> out(b);
    for (size_t k = 0; k < cout; ++k)
      for (size_t i = 0; i < cin; ++i) out[k] += x[i] * w[i * cout + k];
    return out;
  }
  static constexpr int64_t L = 7, S = 4, E = 5, T = 2;
  std::unique_ptr<backend::Backend> backend_;
  parallel::SelfCommunicator comm_;
  model::ModelConfig cfg_;
  model::Params params_;
  model::ModelInputs in_;
};

TEST_F(Embedders, InputRecyclingAndRelposMatchLiteralAlgorithms) {
  runtime::ExecutionContext ctx(*backend_, comm_);
  const int64_t m = cfg_.msa_channel, z = cfg_.pair_channel;
  model::RecyclingState prev;
  prev.prev_pos = random_tensor({L, 37, 3}, 8, 6.0f);
  prev.prev_msa_first_row = random_tensor({L, m}, 9);
  prev.prev_pair = random_tensor({L, L, z}, 10);
  const model::DeviceInputs d = model::upload_inputs(ctx, cfg_, in_);
  Tensor msa = Tensor::empty({S, L, m}), pair = Tensor::empty({L, L, z});
  model::embed_inputs(ctx, evo(), cfg_, d, in_.aatype, prev, msa, pair);

  auto row = [](const Tensor& t, int64_t r, int64_t c) {
    const auto v = to_doubles(t);
    return std::vector<double>(v.begin() + r * c, v.begin() + (r + 1) * c);
  };
  const auto first_norm_s = to_doubles(evo().sub("prev_msa_first_row_norm")["scale"]);
  const auto first_norm_o = to_doubles(evo().sub("prev_msa_first_row_norm")["offset"]);
  const auto pair_norm_s = to_doubles(evo().sub("prev_pair_norm")["scale"]);
  const auto pair_norm_o = to_doubles(evo().sub("prev_pair_norm")["offset"]);
  std::vector<double> want_msa(S * L * m), want_pair(L * L * z);
  for (int64_t s = 0; s < S; ++s)
    for (int64_t i = 0; i < L; ++i) {
      const auto a = lin("preprocess_msa", row(in_.msa_feat, s * L + i, 49));
      const auto b = lin("preprocess_1d", row(in_.target_feat, i, 22));
      std::vector<double> ln(m, 0.0);
      if (s == 0) layer_norm_ref(row(prev.prev_msa_first_row, i, m).data(), first_norm_s.data(), first_norm_o.data(), m,
                                 ln.data());
      for (int64_t c = 0; c < m; ++c) want_msa[(s * L + i) * m + c] = a[c] + b[c] + ln[c];
    }
  // Pseudo-beta of the previous positions (CB, CA for glycine) and AlphaFold's distogram bins (Alg. 32).
  std::vector<float> beta(L * 3);
  model::pseudo_beta(L, in_.aatype.data<int32_t>(), prev.prev_pos.data<float>(), nullptr, beta.data(), nullptr);
  const int nb = cfg_.prev_pos.num_bins;
  for (int64_t i = 0; i < L; ++i)
    for (int64_t j = 0; j < L; ++j) {
      const auto left = lin("left_single", row(in_.target_feat, i, 22));
      const auto right = lin("right_single", row(in_.target_feat, j, 22));
      double d2 = 0;
      for (int k = 0; k < 3; ++k) d2 += (double(beta[i * 3 + k]) - beta[j * 3 + k]) * (double(beta[i * 3 + k]) - beta[j * 3 + k]);
      std::vector<double> dgram(nb, 0.0);
      for (int k = 0; k < nb; ++k) {
        const double lo = cfg_.prev_pos.min_bin + (cfg_.prev_pos.max_bin - cfg_.prev_pos.min_bin) * k / (nb - 1);
        const double hi_b = cfg_.prev_pos.min_bin + (cfg_.prev_pos.max_bin - cfg_.prev_pos.min_bin) * (k + 1) / (nb - 1);
        const double hi = k + 1 < nb ? hi_b * hi_b : 1e8;
        dgram[k] = (d2 > lo * lo && d2 < hi) ? 1.0 : 0.0;
      }
      const auto pos = lin("prev_pos_linear", dgram);
      std::vector<double> ln(z);
      layer_norm_ref(row(prev.prev_pair, i * L + j, z).data(), pair_norm_s.data(), pair_norm_o.data(), z, ln.data());
      const int64_t R = cfg_.max_relative_feature;
      const int64_t off = std::clamp<int64_t>(int64_t(in_.residue_index.data<int32_t>()[i]) -
                                                  in_.residue_index.data<int32_t>()[j] + R, 0, 2 * R);
      std::vector<double> onehot(2 * R + 1, 0.0);
      onehot[off] = 1.0;
      const auto rel = lin("pair_activiations", onehot);
      for (int64_t c = 0; c < z; ++c) want_pair[(i * L + j) * z + c] = left[c] + right[c] + pos[c] + ln[c] + rel[c];
    }
  EXPECT_LT(max_rel_error(to_doubles(msa), want_msa), 1e-5);
  EXPECT_LT(max_rel_error(to_doubles(pair), want_pair), 1e-5);
}

// Building the pair in the recycled pair's own buffer (a block of rows at a time, each block normalised before it is
// overwritten) gives the same bits as building it in a fresh buffer, for one block and for several.
TEST_F(Embedders, PairBuiltInTheRecycledBufferEqualsAFreshBuffer) {
  const int64_t m = cfg_.msa_channel, z = cfg_.pair_channel;
  for (int64_t rows : {int64_t{0}, int64_t{2}, int64_t{3}}) {
    runtime::ChunkConfig chunks;
    chunks.pair_rows = rows;
    runtime::ExecutionContext ctx(*backend_, comm_, chunks);
    const model::DeviceInputs d = model::upload_inputs(ctx, cfg_, in_);
    model::RecyclingState prev;
    prev.prev_pos = random_tensor({L, 37, 3}, 21, 6.0f);
    prev.prev_msa_first_row = random_tensor({L, m}, 22);
    prev.prev_pair = random_tensor({L, L, z}, 23);
    Tensor msa_a = Tensor::empty({S, L, m}), fresh = Tensor::empty({L, L, z});
    model::embed_inputs(ctx, evo(), cfg_, d, in_.aatype, prev, msa_a, fresh);
    Tensor msa_b = Tensor::empty({S, L, m});
    Tensor reused = prev.prev_pair;  // the same storage: consumed
    model::embed_inputs(ctx, evo(), cfg_, d, in_.aatype, prev, msa_b, reused);
    EXPECT_EQ(to_doubles(reused), to_doubles(fresh)) << "pair_rows " << rows;
    EXPECT_EQ(to_doubles(msa_b), to_doubles(msa_a)) << "pair_rows " << rows;
    EXPECT_EQ(prev.prev_pair.raw_data(), reused.raw_data());
  }
}

TEST_F(Embedders, ExtraMsaFeaturesMatchLiteralOneHot) {
  runtime::ExecutionContext ctx(*backend_, comm_, runtime::ChunkConfig{2, 0, 0, 0, 0});
  Tensor extra = Tensor::empty({E, L, cfg_.extra_msa_channel});
  model::extra_msa_embedder(ctx, evo(), model::upload_inputs(ctx, cfg_, in_), extra);
  std::vector<double> want;
  for (int64_t r = 0; r < E * L; ++r) {
    std::vector<double> f(25, 0.0);
    f[in_.extra_msa.data<int32_t>()[r]] = 1.0;
    f[23] = in_.extra_has_deletion.data<float>()[r];
    f[24] = in_.extra_deletion_value.data<float>()[r];
    const auto o = lin("extra_msa_activations", f);
    want.insert(want.end(), o.begin(), o.end());
  }
  EXPECT_LT(max_rel_error(to_doubles(extra), want), 1e-5);
}

TEST_F(Embedders, TemplateTorsionRowsMatchLiteralConcatenation) {
  runtime::ExecutionContext ctx(*backend_, comm_);
  const int64_t m = cfg_.msa_channel;
  Tensor rows = Tensor::empty({T, L, m});
  model::template_torsion_embedder(ctx, evo(), in_.templates, rows);
  const auto sc = to_doubles(in_.templates.torsion_angles_sin_cos);
  const auto alt = to_doubles(in_.templates.alt_torsion_angles_sin_cos);
  const auto tm = to_doubles(in_.templates.torsion_angles_mask);
  std::vector<double> want;
  for (int64_t r = 0; r < T * L; ++r) {
    std::vector<double> f(57, 0.0);
    f[in_.templates.aatype.data<int32_t>()[r]] = 1.0;
    for (int k = 0; k < 14; ++k) f[22 + k] = sc[r * 14 + k];
    for (int k = 0; k < 14; ++k) f[36 + k] = alt[r * 14 + k];
    for (int k = 0; k < 7; ++k) f[50 + k] = tm[r * 7 + k];
    auto h = lin("template_single_embedding", f);
    for (double& x : h) x = std::max(x, 0.0);
    const auto o = lin("template_projection", h);
    want.insert(want.end(), o.begin(), o.end());
  }
  EXPECT_LT(max_rel_error(to_doubles(rows), want), 1e-5);
  // The template rows' MSA mask is the psi-angle mask.
  const model::DeviceInputs d = model::upload_inputs(ctx, cfg_, in_);
  ASSERT_EQ(d.msa_mask.size(0), S + T);
  for (int64_t t = 0; t < T; ++t)
    for (int64_t i = 0; i < L; ++i)
      EXPECT_EQ(d.msa_mask.data<float>()[(S + t) * L + i], tm[(t * L + i) * 7 + 2]);
}

}  // namespace
}  // namespace axf::test
