// Feature processing (AlphaFold's inference input pipeline) on the real query73 raw features, against the
// OpenFold-processed reference inputs: shapes, dtypes, the deterministic features exactly, invariants and value
// ranges of the sampled ones; plus hand-checked cases for the individual transforms.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "core/error.h"
#include "io/npz.h"
#include "io/tensor_npy.h"
#include "model/config.h"
#include "pipeline/feature_processing.h"
#include "support/test_support.h"

namespace axf::test {
namespace {

using core::DType;
using core::Shape;
using core::Tensor;
using pipeline::FeatureMap;

FeatureMap read_npz(const std::string& name) {
  const auto path = shared_data_dir() / "features" / name;
  io::NpzReader npz(path);
  FeatureMap out;
  for (const auto& key : npz.keys()) out[key] = io::tensor_from_npy(npz.read(key), path.string() + ": " + key);
  return out;
}

const FeatureMap& raw_features() {
  static const FeatureMap raw = read_npz("query73_raw_features.npz");
  return raw;
}

// The reference with its trailing recycling axis (one sample) removed.
const FeatureMap& reference() {
  static const FeatureMap ref = [] {
    FeatureMap r;
    for (const auto& [k, t] : read_npz("query73_model_inputs.npz")) r[k] = t.select(t.ndim() - 1, 0).contiguous();
    return r;
  }();
  return ref;
}

pipeline::ProcessingConfig config(uint64_t seed = 0) {
  pipeline::ProcessingConfig cfg;  // 512 clusters, 1024 extra, 4 template slots: the reference's settings
  cfg.seed = seed;
  return cfg;
}

const FeatureMap& processed() {
  static const FeatureMap out = pipeline::process_features(raw_features(), config());
  return out;
}

std::vector<float> values(const FeatureMap& m, const std::string& name) {
  auto it = m.find(name);
  if (it == m.end()) ADD_FAILURE() << "missing feature " << name;
  return it == m.end() ? std::vector<float>{} : it->second.to_vector();
}

float sum(const std::vector<float>& v) {
  double s = 0;
  for (float x : v) s += x;
  return static_cast<float>(s);
}

constexpr int64_t L = 73, kRawRows = 1136, S = 512, E = 1024, kRealExtra = kRawRows - S;

// Raw MSA rows in AlphaFold's order (all 1136 rows of query73 are distinct), keyed to their row index.
std::map<std::vector<int32_t>, int64_t> raw_rows() {
  const std::vector<float> msa = raw_features().at("msa").to_vector();
  std::map<std::vector<int32_t>, int64_t> rows;
  for (int64_t n = 0; n < kRawRows; ++n) {
    std::vector<int32_t> r(L);
    for (int64_t l = 0; l < L; ++l) r[l] = pipeline::kHhblitsToAlphaFold[static_cast<int>(msa[n * L + l])];
    rows[r] = n;
  }
  EXPECT_EQ(static_cast<int64_t>(rows.size()), kRawRows);
  return rows;
}

std::vector<int32_t> row_of(const std::vector<float>& v, int64_t r, int64_t stride = L, int64_t channels = 1) {
  std::vector<int32_t> out(L);
  for (int64_t l = 0; l < L; ++l) {
    if (channels == 1) {
      out[l] = static_cast<int32_t>(v[r * stride + l]);
    } else {  // one-hot block at the start of each position's channels
      const float* p = v.data() + (r * L + l) * channels;
      out[l] = static_cast<int32_t>(std::max_element(p, p + pipeline::kMsaClasses) - p);
    }
  }
  return out;
}

TEST(FeatureProcessing, ShapesAndDtypesMatchReference) {
  for (const auto& [name, ref] : reference()) {
    auto it = processed().find(name);
    ASSERT_NE(it, processed().end()) << "missing feature " << name;
    EXPECT_EQ(it->second.shape(), ref.shape()) << name;
    EXPECT_EQ(it->second.dtype(), ref.dtype()) << name;
  }
  for (const char* extra : {"bert_mask", "true_msa"}) EXPECT_TRUE(processed().count(extra)) << extra;
}

TEST(FeatureProcessing, DeterministicFeaturesEqualReference) {
  for (const char* name :
       {"aatype", "residue_index", "seq_length", "seq_mask", "target_feat", "atom14_atom_exists",
        "residx_atom14_to_atom37", "residx_atom37_to_atom14", "atom37_atom_exists", "template_aatype",
        "template_all_atom_mask", "template_all_atom_positions", "template_sum_probs", "template_mask",
        "template_pseudo_beta", "template_pseudo_beta_mask", "template_torsion_angles_sin_cos",
        "template_alt_torsion_angles_sin_cos", "template_torsion_angles_mask"})
    EXPECT_EQ(values(processed(), name), values(reference(), name)) << name;
  for (const char* name : {"msa_mask", "msa_row_mask", "extra_msa_mask", "extra_msa_row_mask"})
    EXPECT_EQ(sum(values(processed(), name)), sum(values(reference(), name))) << name;
  EXPECT_EQ(sum(values(processed(), "extra_msa_row_mask")), static_cast<float>(kRealExtra));
}

TEST(FeatureProcessing, QueryRowIsFirstCluster) {
  const auto feat = values(processed(), "msa_feat"), ref_feat = values(reference(), "msa_feat");
  const auto aatype = values(reference(), "aatype"), bert = values(processed(), "bert_mask");
  const auto true_msa = values(processed(), "true_msa");
  int ref_agree = 0;
  for (int64_t l = 0; l < L; ++l) {
    EXPECT_EQ(true_msa[l], aatype[l]) << l;
    if (bert[l] == 0.0f) {
      EXPECT_EQ(feat[l * 49 + static_cast<int>(aatype[l])], 1.0f) << l;
    }
    ref_agree += ref_feat[l * 49 + static_cast<int>(aatype[l])] == 1.0f;
    // Deletion channels are not touched by BERT masking: deterministic.
    EXPECT_EQ(feat[l * 49 + 23], ref_feat[l * 49 + 23]) << l;
    EXPECT_NEAR(feat[l * 49 + 24], ref_feat[l * 49 + 24], 1e-7) << l;
  }
  EXPECT_GT(ref_agree, 55);  // the reference masked its own ~15%
}

TEST(FeatureProcessing, ExtraRowsAreRawRowsWithTheirDeletions) {
  const auto rows = raw_rows();
  const std::vector<float> del = raw_features().at("deletion_matrix_int").to_vector();
  for (const FeatureMap* m : {&reference(), &processed()}) {
    const auto extra = values(*m, "extra_msa"), value = values(*m, "extra_deletion_value");
    const auto has = values(*m, "extra_has_deletion"), row_mask = values(*m, "extra_msa_row_mask");
    for (int64_t e = 0; e < E; ++e) {
      if (row_mask[e] == 0.0f) continue;
      auto it = rows.find(row_of(extra, e));
      ASSERT_NE(it, rows.end()) << "extra row " << e << " is not an MSA row";
      for (int64_t l = 0; l < L; ++l) {
        const double d = del[it->second * L + l];
        EXPECT_NEAR(value[e * L + l], std::atan(d / 3.0) * 2.0 / M_PI, 1e-6);
        EXPECT_EQ(has[e * L + l], d > 0 ? 1.0f : 0.0f);
      }
    }
  }
}

TEST(FeatureProcessing, EveryRowIsAClusterCentreOrExtra) {
  const auto rows = raw_rows();
  const auto true_msa = values(processed(), "true_msa"), extra = values(processed(), "extra_msa");
  const auto msa_rows = values(processed(), "msa_row_mask"), extra_rows = values(processed(), "extra_msa_row_mask");
  EXPECT_EQ(sum(msa_rows), static_cast<float>(std::min(kRawRows, S)));
  EXPECT_EQ(sum(extra_rows), static_cast<float>(std::min(kRawRows - S, E)));
  std::vector<int> seen(kRawRows, 0);
  for (int64_t s = 0; s < S; ++s) {
    ASSERT_EQ(msa_rows[s], 1.0f);
    const auto it = rows.find(row_of(true_msa, s));
    ASSERT_NE(it, rows.end()) << "cluster " << s;
    ++seen[it->second];
    if (s == 0) {
      EXPECT_EQ(it->second, 0);  // the query stays first
    }
  }
  for (int64_t e = 0; e < E; ++e) {
    if (extra_rows[e] == 0.0f) continue;
    const auto it = rows.find(row_of(extra, e));
    ASSERT_NE(it, rows.end()) << "extra " << e;
    ++seen[it->second];
  }
  for (int64_t n = 0; n < kRawRows; ++n) EXPECT_EQ(seen[n], 1) << "raw row " << n;
  // Padding rows are zero everywhere.
  const auto mask = values(processed(), "extra_msa_mask"), has = values(processed(), "extra_has_deletion");
  for (int64_t i = kRealExtra * L; i < E * L; ++i) ASSERT_TRUE(mask[i] == 0 && extra[i] == 0 && has[i] == 0) << i;
}

TEST(FeatureProcessing, MsaFeatInvariants) {
  const auto feat = values(processed(), "msa_feat");
  for (int64_t i = 0; i < S * L; ++i) {
    const float* f = feat.data() + i * 49;
    float onehot = 0, profile = 0;
    for (int c = 0; c < 23; ++c) {
      ASSERT_TRUE(f[c] == 0.0f || f[c] == 1.0f) << i;
      onehot += f[c];
    }
    for (int c = 25; c < 48; ++c) {
      ASSERT_GE(f[c], 0.0f);
      profile += f[c];
    }
    ASSERT_EQ(onehot, 1.0f) << i;
    ASSERT_NEAR(profile, 1.0f, 1e-5) << i;
    ASSERT_TRUE(f[23] == 0.0f || f[23] == 1.0f) << i;
    ASSERT_TRUE(f[24] >= 0.0f && f[24] < 1.0f && f[48] >= 0.0f && f[48] < 1.0f) << i;
    ASSERT_EQ(f[23] == 1.0f, f[24] > 0.0f) << i;
  }
}

TEST(FeatureProcessing, BertMaskingStatistics) {
  const auto bert = values(processed(), "bert_mask"), feat = values(processed(), "msa_feat");
  const auto true_msa = values(processed(), "true_msa");
  int64_t masked = 0, mask_token = 0;
  for (int64_t i = 0; i < S * L; ++i) {
    const float* f = feat.data() + i * 49;
    const int token = static_cast<int>(std::max_element(f, f + 23) - f);
    if (bert[i] == 0.0f) {
      ASSERT_EQ(token, static_cast<int>(true_msa[i])) << i;
      continue;
    }
    ++masked;
    mask_token += token == pipeline::kMsaMaskToken;
  }
  EXPECT_NEAR(static_cast<double>(masked) / (S * L), 0.15, 0.01);
  EXPECT_NEAR(static_cast<double>(mask_token) / masked, 0.7, 0.03);
}

TEST(FeatureProcessing, ValueRangesMatchReference) {
  const auto ours = values(processed(), "msa_feat"), ref = values(reference(), "msa_feat");
  auto range = [](const std::vector<float>& v, int c, int n) {
    std::pair<float, float> r{1e30f, -1e30f};
    for (size_t i = c; i < v.size(); i += n) r = {std::min(r.first, v[i]), std::max(r.second, v[i])};
    return r;
  };
  for (int c = 0; c < 49; ++c) {
    const auto a = range(ours, c, 49), b = range(ref, c, 49);
    EXPECT_GE(a.first, 0.0f) << c;
    EXPECT_LE(a.second, 1.0f) << c;
    if (c <= 23) {
      EXPECT_EQ(a, b) << "channel " << c;  // binary channels: {0, 1} in both
    }
  }
  for (const char* name : {"extra_msa", "extra_has_deletion", "extra_msa_mask"})
    EXPECT_EQ(range(values(processed(), name), 0, 1), range(values(reference(), name), 0, 1)) << name;
  // Every row is a cluster centre or extra, so the largest deletion value over both is deterministic.
  auto max_deletion = [&](const FeatureMap& m, const std::vector<float>& feat) {
    return std::max(range(feat, 24, 49).second, range(values(m, "extra_deletion_value"), 0, 1).second);
  };
  EXPECT_FLOAT_EQ(max_deletion(processed(), ours), max_deletion(reference(), ref));
}

TEST(FeatureProcessing, SameSeedSameFeaturesOtherSeedOtherSample) {
  const FeatureMap again = pipeline::process_features(raw_features(), config(0));
  for (const auto& [name, t] : processed()) EXPECT_EQ(t.to_vector(), again.at(name).to_vector()) << name;
  const FeatureMap other = pipeline::process_features(raw_features(), config(1));
  for (const char* name : {"msa_feat", "true_msa", "bert_mask", "extra_msa"})
    EXPECT_NE(values(processed(), name), values(other, name)) << name;
  EXPECT_EQ(values(processed(), "target_feat"), values(other, "target_feat"));
}

TEST(FeatureProcessing, AllRecyclingSamplesOnTrailingAxis) {
  pipeline::ProcessingConfig cfg = config();
  cfg.num_recycle = 1;
  cfg.all_recycling_samples = true;
  const FeatureMap all = pipeline::process_features(raw_features(), cfg);
  for (const auto& [name, one] : processed()) {
    const Tensor& t = all.at(name);
    Shape want = one.shape();
    want.push_back(2);
    ASSERT_EQ(t.shape(), want) << name;
    EXPECT_EQ(t.select(t.ndim() - 1, 0).contiguous().to_vector(), one.to_vector()) << name;
  }
  const Tensor& feat = all.at("msa_feat");
  EXPECT_NE(feat.select(3, 0).contiguous().to_vector(), feat.select(3, 1).contiguous().to_vector());
}

// ---- Individual transforms on hand-made inputs ---------------------------------------------------------

pipeline::MsaRows rows(int64_t num_res, std::vector<int32_t> msa, std::vector<float> deletion = {}) {
  pipeline::MsaRows r;
  r.num_res = num_res;
  if (deletion.empty()) deletion.assign(msa.size(), 0.0f);
  r.msa = std::move(msa);
  r.deletion = std::move(deletion);
  return r;
}

TEST(FeatureProcessingTransforms, NearestNeighbourIgnoresGapsAndMaskAndBreaksTiesLow) {
  // Clusters: 0 = A A - -, 1 = A [M] R R, 2 = A A - -.
  const auto sampled = rows(4, {0, 0, 21, 21, 0, 22, 1, 1, 0, 0, 21, 21});
  // Extra 0 = A A - - : 2 agreements with clusters 0 and 2 (gaps do not count) -> 0.
  // Extra 1 = A A R R : 2 with cluster 0, 3 with cluster 1 -> 1.  Extra 2 = - - - - : all 0 -> 0.
  const auto extra = rows(4, {0, 0, 21, 21, 0, 0, 1, 1, 21, 21, 21, 21});
  EXPECT_EQ(pipeline::nearest_neighbor_clusters(sampled, extra), (std::vector<int32_t>{0, 1, 0}));
}

TEST(FeatureProcessingTransforms, ClusterSummaryAndMsaFeat) {
  const auto sampled = rows(2, {0, 22, 4, 4}, {0, 3, 1, 0});
  const auto extra = rows(2, {0, 1, 0, 21, 4, 4}, {3, 0, 6, 0, 0, 0});
  const std::vector<int32_t> assign = {0, 0, 1};
  const auto summary = pipeline::summarize_clusters(sampled, extra, assign);
  const float n0 = (1e-6f + 1.0f) + 2.0f, n1 = (1e-6f + 1.0f) + 1.0f;
  EXPECT_EQ(summary.profile[0 * 23 + 0], 3.0f / n0);        // cluster 0, residue 0: A, A, A
  EXPECT_EQ(summary.profile[1 * 23 + 22], 1.0f / n0);       // residue 1: [MASK] centre, R, gap
  EXPECT_EQ(summary.profile[1 * 23 + 1], 1.0f / n0);
  EXPECT_EQ(summary.profile[1 * 23 + 21], 1.0f / n0);
  EXPECT_EQ(summary.profile[2 * 23 + 4], 2.0f / n1);        // cluster 1, residue 0: C, C
  EXPECT_EQ(summary.deletion_mean[0], (3.0f + 6.0f) / n0);  // deletions 0 (centre), 3, 6
  EXPECT_EQ(summary.deletion_mean[1], 3.0f / n0);
  EXPECT_EQ(summary.deletion_mean[2], 1.0f / n1);
  const auto feat = pipeline::make_msa_feat(sampled, summary);
  ASSERT_EQ(feat.size(), 4u * 49u);
  const float* f = feat.data() + 1 * 49;  // cluster 0, residue 1
  EXPECT_EQ(f[22], 1.0f);
  EXPECT_EQ(f[23], 1.0f);
  EXPECT_FLOAT_EQ(f[24], 0.5f);  // atan(3 / 3) * 2 / pi
  EXPECT_EQ(f[25 + 22], summary.profile[1 * 23 + 22]);
  EXPECT_FLOAT_EQ(f[48], pipeline::deletion_value(3.0f / n0));
  EXPECT_EQ(pipeline::has_deletion(7.0f), 1.0f);
}

TEST(FeatureProcessingTransforms, SampleMsaKeepsQueryFirstAndPartitions) {
  std::vector<int32_t> msa;
  for (int32_t r = 0; r < 10; ++r) msa.push_back(r);
  const auto all = rows(1, msa);
  core::Random rng(7);
  const auto split = pipeline::sample_msa(all, 4, rng);
  ASSERT_EQ(split.sampled.num_seq(), 4);
  ASSERT_EQ(split.extra.num_seq(), 6);
  EXPECT_EQ(split.sampled.msa[0], 0);
  std::set<int32_t> seen(split.sampled.msa.begin(), split.sampled.msa.end());
  seen.insert(split.extra.msa.begin(), split.extra.msa.end());
  EXPECT_EQ(seen.size(), 10u);
  auto extra = split.extra;
  pipeline::crop_extra_msa(extra, 3, rng);
  EXPECT_EQ(extra.num_seq(), 3);
}

TEST(FeatureProcessingTransforms, TemplatesAreMappedCroppedAndPadded) {
  // L = 2 (G, A), a 2-row MSA, 5 templates (one-hot in HHblits order) with max_templates = 4.
  FeatureMap raw;
  raw["aatype"] = Tensor::from_vector({2}, {7, 0});
  raw["residue_index"] = Tensor::from_vector_i32({2}, {0, 1});
  raw["msa"] = Tensor::from_vector_i32({2, 2}, {5, 0, 21, 0});  // HHblits: G A / - A
  raw["deletion_matrix_int"] = Tensor::from_vector_i32({2, 2}, {0, 0, 2, 0});
  const int64_t T = 5;
  std::vector<float> aatype(T * 2 * 22, 0.0f), pos(T * 2 * 37 * 3, 0.0f), mask(T * 2 * 37, 0.0f);
  for (int64_t t = 0; t < T; ++t) {
    aatype[(t * 2 + 0) * 22 + 5] = 1;   // HHblits G -> AlphaFold 7
    aatype[(t * 2 + 1) * 22 + 14] = 1;  // HHblits R -> AlphaFold 1
    for (int64_t r = 0; r < 2; ++r) {
      for (int a = 0; a < 37; ++a) mask[(t * 2 + r) * 37 + a] = 1.0f;
      pos[((t * 2 + r) * 37 + 1) * 3] = 10.0f * t + r + 1;  // CA x
      pos[((t * 2 + r) * 37 + 3) * 3] = -1.0f;              // CB x
    }
  }
  raw["template_aatype"] = Tensor::from_vector({T, 2, 22}, aatype);
  raw["template_all_atom_positions"] = Tensor::from_vector({T, 2, 37, 3}, pos);
  raw["template_all_atom_masks"] = Tensor::from_vector({T, 2, 37}, mask);
  raw["template_sum_probs"] = Tensor::from_vector({T, 1}, {5, 4, 3, 2, 1});
  pipeline::ProcessingConfig cfg = config();
  cfg.max_msa_clusters = 4;
  cfg.max_extra_msa = 3;
  const FeatureMap out = pipeline::process_features(raw, cfg);
  EXPECT_EQ(values(out, "template_aatype"), (std::vector<float>{7, 1, 7, 1, 7, 1, 7, 1}));
  EXPECT_EQ(values(out, "template_sum_probs"), (std::vector<float>{5, 4, 3, 2}));
  EXPECT_EQ(values(out, "template_mask"), (std::vector<float>{1, 1, 1, 1}));
  EXPECT_EQ(out.at("template_all_atom_masks").shape(), Shape({4, 2, 37}));
  const auto beta = values(out, "template_pseudo_beta");
  EXPECT_EQ(beta[(3 * 2 + 0) * 3], 31.0f);  // glycine: CA
  EXPECT_EQ(beta[(3 * 2 + 1) * 3], -1.0f);  // arginine: CB
  EXPECT_EQ(out.at("msa_feat").shape(), Shape({4, 2, 49}));
  EXPECT_EQ(values(out, "msa_row_mask"), (std::vector<float>{1, 1, 0, 0}));
  EXPECT_EQ(values(out, "extra_msa_row_mask"), (std::vector<float>{0, 0, 0}));
  EXPECT_EQ(values(out, "true_msa")[2], 21.0f);  // gap stays 21 after the order mapping
  const auto feat = values(out, "msa_feat");
  EXPECT_EQ(feat[(1 * 2 + 0) * 49 + 23], 1.0f);  // row 1 residue 0 has 2 deletions
  cfg.use_templates = false;
  EXPECT_EQ(pipeline::process_features(raw, cfg).count("template_aatype"), 0u);
}

TEST(FeatureProcessingTransforms, ConfigFromPresetAndErrors) {
  const auto p1 = pipeline::processing_config(model::model_config("model_1_ptm"));
  EXPECT_EQ(pipeline::num_msa_clusters(p1), 508);
  EXPECT_EQ(p1.max_extra_msa, 5120);
  EXPECT_TRUE(p1.use_templates);
  const auto p3 = pipeline::processing_config(model::model_config("model_3"));
  EXPECT_EQ(pipeline::num_msa_clusters(p3), 512);
  EXPECT_FALSE(p3.use_templates);
  FeatureMap raw = raw_features();
  raw.erase("msa");
  try {
    pipeline::process_features(raw, config());
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("'msa'"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace axf::test
