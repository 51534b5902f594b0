// The input-feature Backend operations on the CPU backend against the model's host functions they replace:
// template pair features bit-identical to model::template_pair_features, the relpos and recycled-distogram
// embeddings bit-identical to `embedding` of the host indices followed by the bias, the extra-MSA embedding within
// 1e-6 of the one-hot linear; bf16 outputs are the fp32 results rounded once; the Backend defaults (host-built
// features, for backends without kernels) agree with the CPU implementations.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "backend/backend.h"
#include "core/error.h"
#include "core/random.h"
#include "model/embedders.h"
#include "model/template_embedding.h"
#include "support/model_test_support.h"

namespace axf::test {
namespace {

using backend::Backend;
using core::DType;

std::vector<float> values(const Tensor& t) { return t.to_vector(); }

// Template batch with padding: the last two residues of template 1 have garbage coordinates, atom masks 0 and
// an out-of-range aatype (21, "gap"); residue 2 of template 0 lacks N (backbone mask 0).
model::TemplateBatch padded_templates(int64_t L, uint64_t seed) {
  model::ModelInputs in = random_model_inputs(L, 2, 2, 2, seed);
  model::TemplateBatch b = in.templates;
  float* pos = b.all_atom_positions.data<float>();
  float* mask = b.all_atom_mask.data<float>();
  int32_t* aat = b.aatype.data<int32_t>();
  core::Random rng(seed + 1);
  for (int64_t i = std::max<int64_t>(L - 2, 0); i < L; ++i) {
    aat[L + i] = 21;
    for (int a = 0; a < 37; ++a) {
      mask[(L + i) * 37 + a] = 0.f;
      for (int d = 0; d < 3; ++d) pos[((L + i) * 37 + a) * 3 + d] = static_cast<float>(100 * rng.normal());
    }
  }
  if (L > 2) mask[(0 * L + 2) * 37 + 0] = 0.f;
  b.pseudo_beta = Tensor();  // recomputed from the edited atoms
  b.pseudo_beta_mask = Tensor();
  return b;
}

backend::TemplatePairFeatureArgs template_args(const model::TemplateConfig& cfg, const model::TemplateBatch& batch,
                                               int64_t t) {
  const model::TemplateResidueInputs r = model::template_residue_inputs(batch, t);
  backend::TemplatePairFeatureArgs a;
  a.pseudo_beta = r.pseudo_beta;
  a.pseudo_beta_mask = r.pseudo_beta_mask;
  a.ca = r.ca;
  a.rotation = r.rotation;
  a.backbone_mask = r.backbone_mask;
  a.aatype = r.aatype;
  model::template_dgram_breaks(cfg.dgram_features, a.dgram_lower, a.dgram_upper);
  a.use_unit_vector = cfg.use_template_unit_vector;
  return a;
}

class FeatureOps : public ::testing::Test {
 protected:
  std::unique_ptr<Backend> be_ = backend::make_cpu_backend();
};

TEST_F(FeatureOps, TemplatePairFeaturesBitIdenticalToHostFunction) {
  model::TemplateConfig cfg = small_config().templates;
  const int64_t F = model::kTemplatePairFeatures;
  for (int64_t L : {1, 7, 37}) {
    const model::TemplateBatch batch = padded_templates(L, 100 + L);
    for (bool unit : {false, true}) {
      cfg.use_template_unit_vector = unit;
      for (int64_t t = 0; t < batch.count(); ++t) {
        for (auto [b, e] : std::vector<std::pair<int64_t, int64_t>>{{0, L}, {L / 3, L / 3 + 1}, {L / 2, L}}) {
          const Tensor want = model::template_pair_features(cfg, batch, t, b, e);
          backend::TemplatePairFeatureArgs a = template_args(cfg, batch, t);
          a.out = Tensor::full({e - b, L, F}, std::nanf(""));
          a.row_begin = b;
          be_->template_pair_features(a);
          EXPECT_EQ(values(a.out), values(want)) << "L " << L << " template " << t << " rows " << b << " unit " << unit;
          // bf16 output: the fp32 features rounded once.
          a.out = Tensor::zeros({e - b, L, F}, DType::BF16);
          be_->template_pair_features(a);
          EXPECT_EQ(values(a.out), values(want.to(DType::BF16)));
          // A strided output view (rows of a wider buffer, transposed leading dims).
          Tensor wide = Tensor::full({L, e - b, F + 5}, 7.f);
          a.out = wide.transpose(0, 1).slice(2, 2, 2 + F);
          be_->template_pair_features(a);
          EXPECT_EQ(values(a.out), values(want));
          EXPECT_EQ(wide.data<float>()[0], 7.f);
        }
      }
    }
  }
}

TEST_F(FeatureOps, FusedTemplateEmbeddingMatchesFeaturesThenLinear) {
  model::TemplateConfig cfg = small_config().templates;
  cfg.use_template_unit_vector = true;
  const int64_t L = 13, F = model::kTemplatePairFeatures, C = 24;
  const model::TemplateBatch batch = padded_templates(L, 7);
  const Tensor w = random_tensor({F, C}, 3, 0.2f), bias = random_tensor({C}, 4);
  for (int64_t t = 0; t < batch.count(); ++t) {
    const Tensor feat = model::template_pair_features(cfg, batch, t, 2, L);
    Tensor want = Tensor::empty({L - 2, L, C});
    be_->linear({feat, w, bias, want});
    backend::TemplatePairFeatureArgs a = template_args(cfg, batch, t);
    a.w = w;
    a.bias = bias;
    a.row_begin = 2;
    a.out = Tensor::full({L - 2, L, C}, std::nanf(""));
    be_->template_pair_features(a);
    EXPECT_LT(max_rel_error(to_doubles(a.out), to_doubles(want)), 1e-6) << "template " << t;
    const Tensor f32 = a.out.clone();
    // bf16 output = fp32 result rounded once; bf16 weights = the weights rounded, fp32 arithmetic.
    a.out = Tensor::zeros({L - 2, L, C}, DType::BF16);
    be_->template_pair_features(a);
    EXPECT_EQ(values(a.out), values(f32.to(DType::BF16)));
    a.w = w.to(DType::BF16);
    a.bias = bias.to(DType::BF16);
    a.out = Tensor::zeros({L - 2, L, C});
    be_->template_pair_features(a);
    Tensor want_bf16w = Tensor::empty({L - 2, L, C});
    be_->linear({feat, w.to(DType::BF16).to(DType::F32), bias.to(DType::BF16).to(DType::F32), want_bf16w});
    EXPECT_LT(max_rel_error(to_doubles(a.out), to_doubles(want_bf16w)), 1e-6);
  }
}

Tensor residue_index_with_gaps(int64_t L, uint64_t seed) {
  core::Random rng(seed);
  Tensor ri = Tensor::empty({L}, DType::I32);
  int32_t v = 3;
  for (int64_t i = 0; i < L; ++i) {
    v += 1 + (rng.uniform() < 0.1 ? 40 : 0);  // chain breaks beyond the clipping distance
    ri.data<int32_t>()[i] = v;
  }
  return ri;
}

// pair (+)= via the former path: host indices, `embedding` (accumulate), then the bias.
Tensor embed_with_indices(Backend& be, const std::vector<int32_t>& idx, const Tensor& table, const Tensor& bias,
                          const Tensor& pair) {
  Tensor out = pair.clone();
  be.embedding(Tensor::from_vector_i32({static_cast<int64_t>(idx.size())}, idx), table, out, true);
  be.add(out, bias.unsqueeze(0).unsqueeze(0).expand(0, out.size(0)).expand(1, out.size(1)));
  return out;
}

TEST_F(FeatureOps, RelativePositionEmbeddingBitIdenticalToIndicesAndEmbedding) {
  const int32_t R = 32;
  const int64_t C = 20;
  for (int64_t L : {1, 7, 37, 130}) {
    const Tensor ri = residue_index_with_gaps(L, 11 + L);
    const Tensor table = random_tensor({2 * R + 1, C}, 12), bias = random_tensor({C}, 13);
    for (auto [b, e] : std::vector<std::pair<int64_t, int64_t>>{{0, L}, {L / 2, L}}) {
      const Tensor pair = random_tensor({e - b, L, C}, 14);
      const Tensor want = embed_with_indices(*be_, model::relpos_indices(ri.data<int32_t>(), L, b, e - b, R), table,
                                             bias, pair);
      backend::RelativePositionEmbeddingArgs a{ri, R, table, bias, pair.clone(), b};
      be_->relative_position_embedding(a);
      EXPECT_EQ(values(a.pair), values(want)) << "L " << L << " rows " << b;
      // The Backend default (host indices, generic ops) is the same computation.
      backend::RelativePositionEmbeddingArgs f{ri, R, table, bias, pair.clone(), b};
      be_->Backend::relative_position_embedding(f);
      EXPECT_EQ(values(f.pair), values(want));
      // bf16 pair, bf16 table, fp32 bias: fp32 arithmetic, one rounding.
      Tensor want16 = embed_with_indices(*be_, model::relpos_indices(ri.data<int32_t>(), L, b, e - b, R),
                                         table.to(DType::BF16).to(DType::F32), bias,
                                         pair.to(DType::BF16).to(DType::F32));
      backend::RelativePositionEmbeddingArgs h{ri, R, table.to(DType::BF16), bias, pair.to(DType::BF16), b};
      be_->relative_position_embedding(h);
      EXPECT_EQ(values(h.pair), values(want16.to(DType::BF16)));
    }
  }
}

TEST_F(FeatureOps, DistogramEmbeddingBitIdenticalToDgramBinsAndEmbedding) {
  const model::DgramConfig g = model::ModelConfig().prev_pos;
  const int64_t C = 18;
  for (int64_t L : {1, 7, 37, 130}) {
    // Positions spread over the bins, one coincident pair (d^2 = 0: no bin) and far ones (last bin).
    Tensor pos = random_tensor({L, 3}, 21 + L, 9.f);
    if (L > 3) {
      for (int d = 0; d < 3; ++d) pos.data<float>()[3 * 3 + d] = pos.data<float>()[1 * 3 + d];
      pos.data<float>()[0] = 500.f;
    }
    std::vector<float> lower, upper;
    model::dgram_squared_breaks(g, lower, upper);
    const Tensor table = random_tensor({g.num_bins, C}, 22), bias = random_tensor({C}, 23);
    for (auto [b, e] : std::vector<std::pair<int64_t, int64_t>>{{0, L}, {L - 1, L}}) {
      const Tensor pair = random_tensor({e - b, L, C}, 24);
      const std::vector<int32_t> bins = model::dgram_bins(pos.data<float>(), L, b, e - b, g);
      const Tensor want = embed_with_indices(*be_, bins, table, bias, pair);
      backend::DistogramEmbeddingArgs a{pos, lower, upper, table, bias, pair.clone(), b};
      be_->distogram_embedding(a);
      EXPECT_EQ(values(a.pair), values(want)) << "L " << L << " rows " << b;
      backend::DistogramEmbeddingArgs f{pos, lower, upper, table, bias, pair.clone(), b};
      be_->Backend::distogram_embedding(f);
      EXPECT_EQ(values(f.pair), values(want));
      backend::DistogramEmbeddingArgs h{pos, lower, upper, table, bias.to(DType::BF16), pair.to(DType::BF16), b};
      be_->distogram_embedding(h);
      const Tensor want16 = embed_with_indices(*be_, bins, table, bias.to(DType::BF16).to(DType::F32),
                                               pair.to(DType::BF16).to(DType::F32));
      EXPECT_EQ(values(h.pair), values(want16.to(DType::BF16)));
    }
  }
}

TEST_F(FeatureOps, ExtraMsaEmbeddingMatchesOneHotLinear) {
  const int64_t E = 9, L = 37, C = 16;
  const model::ModelInputs in = random_model_inputs(L, 2, E, 0, 31);
  const Tensor w = random_tensor({25, C}, 32, 0.3f), bias = random_tensor({C}, 33);
  Tensor feat = Tensor::zeros({E, L, 25});
  for (int64_t r = 0; r < E * L; ++r) {
    feat.data<float>()[r * 25 + in.extra_msa.data<int32_t>()[r]] = 1.f;
    feat.data<float>()[r * 25 + 23] = in.extra_has_deletion.data<float>()[r];
    feat.data<float>()[r * 25 + 24] = in.extra_deletion_value.data<float>()[r];
  }
  Tensor want = Tensor::empty({E, L, C});
  be_->linear({feat, w, bias, want});
  backend::ExtraMsaEmbeddingArgs a{in.extra_msa, in.extra_has_deletion, in.extra_deletion_value, w, bias,
                                   Tensor::full({E, L, C}, std::nanf(""))};
  be_->extra_msa_embedding(a);
  EXPECT_LT(max_rel_error(to_doubles(a.out), to_doubles(want)), 1e-6);
  backend::ExtraMsaEmbeddingArgs f = a;
  f.out = Tensor::full({E, L, C}, std::nanf(""));
  be_->Backend::extra_msa_embedding(f);
  EXPECT_LT(max_rel_error(to_doubles(f.out), to_doubles(want)), 1e-6);
  const Tensor f32 = a.out.clone();
  a.out = Tensor::zeros({E, L, C}, DType::BF16);
  be_->extra_msa_embedding(a);
  EXPECT_EQ(values(a.out), values(f32.to(DType::BF16)));
  // Out-of-range residue types are rejected (the model validates extra_msa to [0, 22] when loading).
  Tensor bad = in.extra_msa.clone();
  bad.data<int32_t>()[5] = 23;
  a.aatype = bad;
  EXPECT_THROW(be_->extra_msa_embedding(a), Error);
}

TEST_F(FeatureOps, TemplateDefaultMatchesCpuImplementation) {
  model::TemplateConfig cfg = small_config().templates;
  cfg.use_template_unit_vector = true;
  const int64_t L = 9, F = model::kTemplatePairFeatures;
  const model::TemplateBatch batch = padded_templates(L, 41);
  backend::TemplatePairFeatureArgs a = template_args(cfg, batch, 1);
  a.out = Tensor::zeros({L, L, F});
  be_->template_pair_features(a);
  backend::TemplatePairFeatureArgs f = template_args(cfg, batch, 1);
  f.out = Tensor::zeros({L, L, F});
  be_->Backend::template_pair_features(f);
  EXPECT_EQ(values(f.out), values(a.out));
}

TEST_F(FeatureOps, RejectsBadArguments) {
  model::TemplateConfig cfg = small_config().templates;
  const model::TemplateBatch batch = padded_templates(5, 51);
  backend::TemplatePairFeatureArgs a = template_args(cfg, batch, 0);
  a.out = Tensor::zeros({5, 5, 10});  // wrong channel count
  EXPECT_THROW(be_->template_pair_features(a), Error);
  a.out = Tensor::zeros({3, 5, model::kTemplatePairFeatures});
  a.row_begin = 3;  // rows past L
  EXPECT_THROW(be_->template_pair_features(a), Error);
  const Tensor ri = residue_index_with_gaps(5, 1);
  backend::RelativePositionEmbeddingArgs r{ri, 4, random_tensor({8, 3}, 2), Tensor(), Tensor::zeros({5, 5, 3}), 0};
  EXPECT_THROW(be_->relative_position_embedding(r), Error);  // table needs 2R+1 = 9 rows
}

}  // namespace
}  // namespace axf::test
