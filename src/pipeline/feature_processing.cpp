// AlphaFold's input pipeline at inference (input_pipeline.py: nonensembled_map_fns once, ensembled_map_fns per
// recycling sample, then make_fixed_size). See feature_processing.h.
#include "pipeline/feature_processing.h"

#include <algorithm>
#include <type_traits>

#include "core/error.h"
#include "model/residue_constants.h"
#include "model/template_geometry.h"

namespace axf::pipeline {

namespace {

using core::DType;
using core::Shape;
using core::Tensor;

// The raw features after AlphaFold's non-ensembled transforms (correct_msa_restypes, squeeze_features,
// make_seq_mask / make_msa_mask (implicit ones), make_hhblits_profile, fix_templates_aatype, make_template_mask).
// randomly_replace_msa_with_unknown runs with proportion 0 at inference and changes nothing: not applied.
struct Prepared {
  int64_t num_res = 0;
  std::vector<int32_t> aatype;             // [L] AlphaFold order
  std::vector<int32_t> residue_index;      // [L]
  std::vector<float> between_segment;      // [L]
  MsaRows msa;                             // [N, L] AlphaFold order
  std::vector<float> hhblits_profile;      // [L, 22]
  int64_t num_templates = 0;               // T (before cropping to max_templates)
  std::vector<int32_t> template_aatype;    // [T, L]
  std::vector<float> template_positions;   // [T, L, 37, 3]
  std::vector<float> template_mask_atoms;  // [T, L, 37]
  std::vector<float> template_sum_probs;   // [T]
  std::string template_mask_name = "template_all_atom_masks";
};

const Tensor* find(const FeatureMap& raw, const std::string& name) {
  auto it = raw.find(name);
  return it == raw.end() ? nullptr : &it->second;
}

const Tensor& require(const FeatureMap& raw, const std::string& name) {
  const Tensor* t = find(raw, name);
  AXF_CHECK(t != nullptr, "raw features: missing feature '", name, "'");
  return *t;
}

std::vector<int32_t> int_values(const Tensor& t, const std::string& name) {
  const std::vector<float> v = t.to_vector();
  std::vector<int32_t> out(v.size());
  for (size_t i = 0; i < v.size(); ++i) {
    out[i] = static_cast<int32_t>(v[i]);
    AXF_CHECK(static_cast<float>(out[i]) == v[i], "raw features: feature '", name, "' holds non-integer value ",
              v[i], " at element ", i);
  }
  return out;
}

// tf.argmax over the last axis (first maximum wins).
std::vector<int32_t> argmax_last(const Tensor& t) {
  const int64_t c = t.size(-1);
  const std::vector<float> v = t.to_vector();
  std::vector<int32_t> out(c > 0 ? v.size() / c : 0);
  for (size_t i = 0; i < out.size(); ++i) {
    const float* row = v.data() + i * c;
    out[i] = static_cast<int32_t>(std::max_element(row, row + c) - row);
  }
  return out;
}

void expect_shape(const Tensor& t, const Shape& shape, const std::string& name) {
  AXF_CHECK(t.shape() == shape, "raw features: feature '", name, "' has shape ", t.shape_str(), ", expected ",
            core::shape_to_string(shape));
}

// A per-residue vector: [L] or AlphaFold's [L, 1] before squeeze_features.
std::vector<float> residue_values(const Tensor& t, int64_t L, const std::string& name) {
  AXF_CHECK(t.numel() == L && t.ndim() >= 1 && t.size(0) == L, "raw features: feature '", name, "' has shape ",
            t.shape_str(), ", expected [", L, "]");
  return t.to_vector();
}

void prepare_templates(const FeatureMap& raw, Prepared& p) {
  const int64_t L = p.num_res;
  const Tensor* aatype = find(raw, "template_aatype");
  if (find(raw, "template_all_atom_mask") && !find(raw, "template_all_atom_masks"))
    p.template_mask_name = "template_all_atom_mask";  // OpenFold's spelling: keep the name it came in with
  if (aatype == nullptr) return;  // no template features at all: T = 0
  AXF_CHECK(aatype->ndim() == 3 && aatype->size(1) == L && aatype->size(2) <= 22, "raw features: feature ",
            "'template_aatype' has shape ", aatype->shape_str(), ", expected one-hot [T, ", L, ", 22]");
  const int64_t T = aatype->size(0);
  p.num_templates = T;
  // fix_templates_aatype: one-hot (HHblits order) -> AlphaFold's indices.
  p.template_aatype = argmax_last(*aatype);
  for (int32_t& a : p.template_aatype) a = kHhblitsToAlphaFold[a];
  const Tensor& pos = require(raw, "template_all_atom_positions");
  expect_shape(pos, {T, L, 37, 3}, "template_all_atom_positions");
  p.template_positions = pos.to_vector();
  const Tensor& mask = require(raw, p.template_mask_name);
  expect_shape(mask, {T, L, 37}, p.template_mask_name);
  p.template_mask_atoms = mask.to_vector();
  if (const Tensor* probs = find(raw, "template_sum_probs")) {
    AXF_CHECK(probs->numel() == T && (probs->ndim() == 1 || probs->ndim() == 2) && probs->size(0) == T,
              "raw features: feature 'template_sum_probs' has shape ", probs->shape_str(), ", expected [", T, ", 1]");
    p.template_sum_probs = probs->to_vector();
  } else {
    p.template_sum_probs.assign(T, 0.0f);
  }
}

Prepared prepare(const FeatureMap& raw, const ProcessingConfig& cfg) {
  Prepared p;
  // squeeze_features: aatype one-hot -> indices (already in AlphaFold's order).
  const Tensor& aatype = require(raw, "aatype");
  AXF_CHECK(aatype.ndim() == 1 || aatype.ndim() == 2, "raw features: feature 'aatype' has shape ",
            aatype.shape_str(), ", expected [L, 21] one-hot or [L] indices");
  p.aatype = aatype.ndim() == 2 ? argmax_last(aatype) : int_values(aatype, "aatype");
  const int64_t L = static_cast<int64_t>(p.aatype.size());
  AXF_CHECK(L > 0, "raw features: feature 'aatype' has no residues");
  for (int64_t l = 0; l < L; ++l)
    AXF_CHECK(p.aatype[l] >= 0 && p.aatype[l] <= model::unk_restype_index, "raw features: feature 'aatype' has ",
              "residue type ", p.aatype[l], " at residue ", l);
  p.num_res = L;
  p.residue_index = int_values(require(raw, "residue_index"), "residue_index");
  AXF_CHECK(static_cast<int64_t>(p.residue_index.size()) == L, "raw features: feature 'residue_index' has ",
            p.residue_index.size(), " values for ", L, " residues");
  if (const Tensor* b = find(raw, "between_segment_residues"))
    p.between_segment = residue_values(*b, L, "between_segment_residues");
  else
    p.between_segment.assign(L, 0.0f);
  if (const Tensor* s = find(raw, "seq_length")) {
    const std::vector<float> v = s->to_vector();
    AXF_CHECK(!v.empty() && v[0] == static_cast<float>(L), "raw features: feature 'seq_length' says ",
              v.empty() ? 0.0f : v[0], " residues, aatype has ", L);
  }

  // correct_msa_restypes: HHblits -> AlphaFold order; deletion_matrix_int becomes the float deletion_matrix.
  const Tensor& msa = require(raw, "msa");
  AXF_CHECK(msa.ndim() == 2 && msa.size(1) == L && msa.size(0) > 0, "raw features: feature 'msa' has shape ",
            msa.shape_str(), ", expected [N, ", L, "] with the query as row 0");
  const int64_t N = msa.size(0);
  p.msa.num_res = L;
  p.msa.msa = int_values(msa, "msa");
  for (size_t i = 0; i < p.msa.msa.size(); ++i) {
    const int32_t a = p.msa.msa[i];
    AXF_CHECK(a >= 0 && a < 22, "raw features: feature 'msa' has token ", a, " at row ", i / L, ", residue ", i % L,
              " (HHblits ids are 0..21)");
    p.msa.msa[i] = kHhblitsToAlphaFold[a];
  }
  const std::string del_name = find(raw, "deletion_matrix_int") ? "deletion_matrix_int" : "deletion_matrix";
  const Tensor& del = require(raw, del_name);
  expect_shape(del, {N, L}, del_name);
  p.msa.deletion = del.to_vector();

  // make_hhblits_profile (a supplied profile is permuted by correct_msa_restypes instead).
  if (const Tensor* prof = find(raw, "hhblits_profile")) {
    expect_shape(*prof, {L, 22}, "hhblits_profile");
    const std::vector<float> v = prof->to_vector();
    p.hhblits_profile.assign(L * 22, 0.0f);
    for (int64_t l = 0; l < L; ++l)
      for (int k = 0; k < 22; ++k) p.hhblits_profile[l * 22 + kHhblitsToAlphaFold[k]] = v[l * 22 + k];
  } else {
    p.hhblits_profile = make_hhblits_profile(p.msa);
  }
  if (cfg.use_templates) prepare_templates(raw, p);
  return p;
}

// A host tensor of `shape` whose leading rows come from `values` and whose remaining rows (make_fixed_size
// padding) are zero.
template <typename T>
Tensor padded(const Shape& shape, const std::vector<T>& values) {
  constexpr DType dtype = std::is_same_v<T, int32_t> ? DType::I32 : DType::F32;
  Tensor t = Tensor::zeros(shape, dtype);
  AXF_CHECK(static_cast<int64_t>(values.size()) <= t.numel(), "padding ", values.size(), " values into ",
            t.describe());
  std::copy(values.begin(), values.end(), t.data<T>());
  return t;
}

// Features that do not depend on the sample: sequence features, atom14/atom37 tables, templates.
FeatureMap fixed_features(const Prepared& p, const ProcessingConfig& cfg) {
  const int64_t L = p.num_res;
  FeatureMap out;
  out["aatype"] = padded<int32_t>({L}, p.aatype);
  out["residue_index"] = padded<int32_t>({L}, p.residue_index);
  out["seq_length"] = padded<int32_t>({}, {static_cast<int32_t>(L)});
  out["seq_mask"] = Tensor::full({L}, 1.0f);

  // make_msa_feat's target_feat: [has_break, one-hot(aatype, 21)].
  std::vector<float> target(L * kTargetFeatChannels, 0.0f);
  for (int64_t l = 0; l < L; ++l) {
    target[l * kTargetFeatChannels] = std::clamp(p.between_segment[l], 0.0f, 1.0f);
    target[l * kTargetFeatChannels + 1 + p.aatype[l]] = 1.0f;
  }
  out["target_feat"] = padded<float>({L, kTargetFeatChannels}, target);

  // make_atom14_masks (UNK rows all zero).
  constexpr int A14 = model::atom14_num, A37 = model::atom_type_num;
  std::vector<int32_t> to37(L * A14), to14(L * A37);
  std::vector<float> exists14(L * A14), exists37(L * A37);
  for (int64_t l = 0; l < L; ++l) {
    const int r = p.aatype[l];
    for (int i = 0; i < A14; ++i) {
      to37[l * A14 + i] = model::restype_atom14_to_atom37[r][i];
      exists14[l * A14 + i] = model::restype_name_to_atom14_names[r][i].empty() ? 0.0f : 1.0f;
    }
    for (int j = 0; j < A37; ++j) {
      to14[l * A37 + j] = model::restype_atom37_to_atom14[r][j];
      exists37[l * A37 + j] = model::restype_atom37_exists[r][j];
    }
  }
  out["atom14_atom_exists"] = padded<float>({L, A14}, exists14);
  out["residx_atom14_to_atom37"] = padded<int32_t>({L, A14}, to37);
  out["residx_atom37_to_atom14"] = padded<int32_t>({L, A37}, to14);
  out["atom37_atom_exists"] = padded<float>({L, A37}, exists37);

  if (!cfg.use_templates) return out;
  // random_crop_to_size with subsample_templates=False keeps the first max_templates; make_fixed_size pads.
  const int64_t Tp = cfg.max_templates, T = std::min<int64_t>(p.num_templates, Tp);
  const int64_t atoms = T * L * A37;
  out["template_aatype"] =
      padded<int32_t>({Tp, L}, std::vector<int32_t>(p.template_aatype.begin(), p.template_aatype.begin() + T * L));
  const std::vector<float> pos(p.template_positions.begin(), p.template_positions.begin() + atoms * 3);
  const std::vector<float> mask(p.template_mask_atoms.begin(), p.template_mask_atoms.begin() + atoms);
  out["template_all_atom_positions"] = padded<float>({Tp, L, A37, 3}, pos);
  out[p.template_mask_name] = padded<float>({Tp, L, A37}, mask);
  out["template_sum_probs"] =
      padded<float>({Tp, 1}, std::vector<float>(p.template_sum_probs.begin(), p.template_sum_probs.begin() + T));
  out["template_mask"] = padded<float>({Tp}, std::vector<float>(T, 1.0f));
  // make_pseudo_beta('template_') and OpenFold's atom37_to_torsion_angles('template_') on the real templates.
  std::vector<float> beta(T * L * 3), beta_mask(T * L), sin_cos(T * L * 14), alt_sin_cos(T * L * 14),
      torsion_mask(T * L * 7);
  if (T > 0) {
    model::pseudo_beta(T * L, p.template_aatype.data(), pos.data(), mask.data(), beta.data(), beta_mask.data());
    model::atom37_to_torsion_angles(T, L, p.template_aatype.data(), pos.data(), mask.data(), sin_cos.data(),
                                    alt_sin_cos.data(), torsion_mask.data());
  }
  out["template_pseudo_beta"] = padded<float>({Tp, L, 3}, beta);
  out["template_pseudo_beta_mask"] = padded<float>({Tp, L}, beta_mask);
  out["template_torsion_angles_sin_cos"] = padded<float>({Tp, L, 7, 2}, sin_cos);
  out["template_alt_torsion_angles_sin_cos"] = padded<float>({Tp, L, 7, 2}, alt_sin_cos);
  out["template_torsion_angles_mask"] = padded<float>({Tp, L, 7}, torsion_mask);
  return out;
}

// ensembled_map_fns for one recycling sample, then make_fixed_size on the MSA features.
void add_msa_sample(const Prepared& p, const ProcessingConfig& cfg, core::Random& rng, FeatureMap& out) {
  const int64_t L = p.num_res, Sp = num_msa_clusters(cfg), Ep = cfg.max_extra_msa;
  MsaSplit split = sample_msa(p.msa, Sp, rng);
  BertMasking bert = make_masked_msa(split.sampled, p.hhblits_profile, cfg, rng);
  // Clusters summarise every extra row; the extra MSA is cropped afterwards (AlphaFold's order).
  const std::vector<int32_t> assignment = nearest_neighbor_clusters(split.sampled, split.extra);
  const ClusterSummary summary = summarize_clusters(split.sampled, split.extra, assignment);
  const int64_t S = split.sampled.num_seq();
  out["msa_feat"] = padded<float>({Sp, L, kMsaFeatChannels}, make_msa_feat(split.sampled, summary));
  out["msa_mask"] = padded<float>({Sp, L}, std::vector<float>(S * L, 1.0f));
  out["msa_row_mask"] = padded<float>({Sp}, std::vector<float>(S, 1.0f));
  out["bert_mask"] = padded<float>({Sp, L}, bert.bert_mask);
  out["true_msa"] = padded<int32_t>({Sp, L}, bert.true_msa);
  if (Ep <= 0) return;  // delete_extra_msa
  crop_extra_msa(split.extra, Ep, rng);
  const int64_t E = split.extra.num_seq();
  std::vector<float> has_del(E * L), del_value(E * L);
  for (int64_t i = 0; i < E * L; ++i) {
    has_del[i] = has_deletion(split.extra.deletion[i]);
    del_value[i] = deletion_value(split.extra.deletion[i]);
  }
  out["extra_msa"] = padded<int32_t>({Ep, L}, split.extra.msa);
  out["extra_msa_mask"] = padded<float>({Ep, L}, std::vector<float>(E * L, 1.0f));
  out["extra_msa_row_mask"] = padded<float>({Ep}, std::vector<float>(E, 1.0f));
  out["extra_has_deletion"] = padded<float>({Ep, L}, has_del);
  out["extra_deletion_value"] = padded<float>({Ep, L}, del_value);
}

// Stacks equally named features of all samples on a new trailing axis.
FeatureMap stack_trailing(const std::vector<FeatureMap>& samples) {
  FeatureMap out;
  const int64_t R = static_cast<int64_t>(samples.size());
  for (const auto& [name, first] : samples.front()) {
    Shape shape = first.shape();
    shape.push_back(R);
    Tensor t = Tensor::empty(shape, first.dtype());
    const int64_t n = first.numel();
    for (int64_t r = 0; r < R; ++r) {
      const Tensor& s = samples[r].at(name);
      if (first.dtype() == DType::I32) {
        for (int64_t i = 0; i < n; ++i) t.data<int32_t>()[i * R + r] = s.data<int32_t>()[i];
      } else {
        for (int64_t i = 0; i < n; ++i) t.data<float>()[i * R + r] = s.data<float>()[i];
      }
    }
    out[name] = t;
  }
  return out;
}

}  // namespace

ProcessingConfig processing_config(const model::ModelConfig& cfg) {
  ProcessingConfig p;
  p.max_msa_clusters = cfg.data.max_msa_clusters;
  p.max_extra_msa = cfg.data.max_extra_msa;
  p.max_templates = cfg.templates.max_templates;
  p.reduce_msa_clusters_by_max_templates = cfg.data.reduce_msa_clusters_by_max_templates;
  p.use_templates = cfg.data.use_templates;
  p.num_recycle = cfg.data.num_recycle;
  return p;
}

int num_msa_clusters(const ProcessingConfig& cfg) {
  return cfg.reduce_msa_clusters_by_max_templates ? cfg.max_msa_clusters - cfg.max_templates : cfg.max_msa_clusters;
}

FeatureMap process_features(const FeatureMap& raw, const ProcessingConfig& cfg) {
  AXF_CHECK(num_msa_clusters(cfg) > 0, "feature processing: ", num_msa_clusters(cfg),
            " MSA clusters (max_msa_clusters ", cfg.max_msa_clusters, ", max_templates ", cfg.max_templates, ")");
  AXF_CHECK(cfg.max_templates >= 0 && cfg.num_recycle >= 0, "feature processing: negative max_templates (",
            cfg.max_templates, ") or num_recycle (", cfg.num_recycle, ")");
  const Prepared p = prepare(raw, cfg);
  const FeatureMap fixed = fixed_features(p, cfg);
  core::Random rng(cfg.seed);
  const int num_samples = cfg.all_recycling_samples ? cfg.num_recycle + 1 : 1;
  std::vector<FeatureMap> samples;
  for (int s = 0; s < num_samples; ++s) {
    FeatureMap sample = fixed;
    add_msa_sample(p, cfg, rng, sample);
    samples.push_back(std::move(sample));
  }
  return cfg.all_recycling_samples ? stack_trailing(samples) : samples.front();
}

}  // namespace axf::pipeline
