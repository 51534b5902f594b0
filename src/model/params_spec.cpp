// parameter_spec: the key and shape of every AlphaFold parameter array implied by a ModelConfig, following
// the Haiku module tree of AlphaFold's modules.py / folding.py (the names are DeepMind's, typos included:
// "pair_activiations").
#include <algorithm>

#include "model/params.h"

namespace axf::model {

namespace {

class SpecBuilder {
 public:
  explicit SpecBuilder(std::vector<ParamSpec>& out) : out_(out) {}

  // `lead` is the block axis of stacked modules (empty for unstacked ones).
  void add(const std::string& scope, const std::string& name, Shape shape, const Shape& lead) {
    Shape full = lead;
    full.insert(full.end(), shape.begin(), shape.end());
    out_.push_back({scope + "//" + name, full});
  }
  void layer_norm(const std::string& s, int64_t c, const Shape& lead = {}) {
    add(s, "offset", {c}, lead);
    add(s, "scale", {c}, lead);
  }
  void linear(const std::string& s, int64_t in, int64_t out, const Shape& lead = {}) {
    add(s, "bias", {out}, lead);
    add(s, "weights", {in, out}, lead);
  }
  // AlphaFold's Attention module (modules.Attention), under scope s (".../attention").
  void attention(const std::string& s, int64_t q_ch, int64_t m_ch, int64_t out_ch, const AttentionConfig& cfg,
                 const Shape& lead) {
    const int64_t h = cfg.num_head, kd = cfg.key_dim / h, vd = cfg.value_dim / h;
    if (cfg.gating) {
      add(s, "gating_b", {h, vd}, lead);
      add(s, "gating_w", {q_ch, h, vd}, lead);
    }
    add(s, "key_w", {m_ch, h, kd}, lead);
    add(s, "output_b", {out_ch}, lead);
    add(s, "output_w", {h, vd, out_ch}, lead);
    add(s, "query_w", {q_ch, h, kd}, lead);
    add(s, "value_w", {m_ch, h, vd}, lead);
  }
  // modules.GlobalAttention: keys and values have a single head shared by all query heads.
  void global_attention(const std::string& s, int64_t ch, const AttentionConfig& cfg, const Shape& lead) {
    const int64_t h = cfg.num_head, kd = cfg.key_dim / h, vd = cfg.value_dim / h;
    add(s, "gating_b", {h, vd}, lead);
    add(s, "gating_w", {ch, h, vd}, lead);
    add(s, "key_w", {ch, kd}, lead);
    add(s, "output_b", {ch}, lead);
    add(s, "output_w", {h, vd, ch}, lead);
    add(s, "query_w", {ch, h, kd}, lead);
    add(s, "value_w", {ch, vd}, lead);
  }
  void transition(const std::string& s, int64_t c, int factor, const Shape& lead) {
    layer_norm(s + "/input_layer_norm", c, lead);
    linear(s + "/transition1", c, c * factor, lead);
    linear(s + "/transition2", c * factor, c, lead);
  }
  void triangle_multiplication(const std::string& s, int64_t z, int64_t ci, const Shape& lead) {
    layer_norm(s + "/center_layer_norm", ci, lead);
    linear(s + "/gating_linear", z, z, lead);
    layer_norm(s + "/layer_norm_input", z, lead);
    linear(s + "/left_gate", z, ci, lead);
    linear(s + "/left_projection", z, ci, lead);
    linear(s + "/output_projection", ci, z, lead);
    linear(s + "/right_gate", z, ci, lead);
    linear(s + "/right_projection", z, ci, lead);
  }
  void triangle_attention(const std::string& s, int64_t z, const AttentionConfig& cfg, const Shape& lead) {
    add(s, "feat_2d_weights", {z, cfg.num_head}, lead);
    attention(s + "/attention", z, z, z, cfg, lead);
    layer_norm(s + "/query_norm", z, lead);
  }
  void pair_stack_block(const std::string& s, int64_t z, const AttentionConfig& start, const AttentionConfig& end,
                        int64_t tri_channels, int transition_factor, const Shape& lead) {
    transition(s + "/pair_transition", z, transition_factor, lead);
    triangle_attention(s + "/triangle_attention_ending_node", z, end, lead);
    triangle_attention(s + "/triangle_attention_starting_node", z, start, lead);
    triangle_multiplication(s + "/triangle_multiplication_incoming", z, tri_channels, lead);
    triangle_multiplication(s + "/triangle_multiplication_outgoing", z, tri_channels, lead);
  }
  // modules.EvoformerIteration (is_extra_msa selects global column attention).
  void evoformer_iteration(const std::string& s, int64_t m, int64_t z, const EvoformerBlockConfig& c, bool extra,
                           const Shape& lead) {
    const AttentionConfig col = ModelConfig::resolved(c.msa_column_attention, static_cast<int>(m), static_cast<int>(m));
    if (extra) {
      global_attention(s + "/msa_column_global_attention/attention", m, col, lead);
      layer_norm(s + "/msa_column_global_attention/query_norm", m, lead);
    } else {
      attention(s + "/msa_column_attention/attention", m, m, m, col, lead);
      layer_norm(s + "/msa_column_attention/query_norm", m, lead);
    }
    const AttentionConfig row = ModelConfig::resolved(c.msa_row_attention, static_cast<int>(m), static_cast<int>(m));
    add(s + "/msa_row_attention_with_pair_bias", "feat_2d_weights", {z, row.num_head}, lead);
    attention(s + "/msa_row_attention_with_pair_bias/attention", m, m, m, row, lead);
    layer_norm(s + "/msa_row_attention_with_pair_bias/feat_2d_norm", z, lead);
    layer_norm(s + "/msa_row_attention_with_pair_bias/query_norm", m, lead);
    transition(s + "/msa_transition", m, c.msa_transition_factor, lead);
    const int64_t oc = c.outer_product_channels;
    add(s + "/outer_product_mean", "output_b", {z}, lead);
    add(s + "/outer_product_mean", "output_w", {oc, oc, z}, lead);
    layer_norm(s + "/outer_product_mean/layer_norm_input", m, lead);
    linear(s + "/outer_product_mean/left_projection", m, oc, lead);
    linear(s + "/outer_product_mean/right_projection", m, oc, lead);
    pair_stack_block(s, z, ModelConfig::resolved(c.triangle_attention_starting, static_cast<int>(z), static_cast<int>(z)),
                     ModelConfig::resolved(c.triangle_attention_ending, static_cast<int>(z), static_cast<int>(z)),
                     c.triangle_multiplication_channels, c.pair_transition_factor, lead);
  }

 private:
  std::vector<ParamSpec>& out_;
};

}  // namespace

std::vector<ParamSpec> parameter_spec(const ModelConfig& c) {
  std::vector<ParamSpec> spec;
  SpecBuilder b(spec);
  const std::string root = kRootScope;
  const std::string evo = root + "/evoformer";
  const int64_t m = c.msa_channel, z = c.pair_channel, s = c.seq_channel, e = c.extra_msa_channel;

  // Embeddings (Suppl. Alg. 3-5, 32) and the trunk (Alg. 6, 16-18).
  b.linear(evo + "/extra_msa_activations", 25, e);
  b.evoformer_iteration(evo + "/extra_msa_stack", e, z, c.evoformer, true, {c.extra_msa_stack_num_block});
  b.evoformer_iteration(evo + "/evoformer_iteration", m, z, c.evoformer, false, {c.evoformer_num_block});
  b.linear(evo + "/left_single", 22, z);
  if (c.max_relative_feature > 0) b.linear(evo + "/pair_activiations", 2 * c.max_relative_feature + 1, z);
  b.linear(evo + "/preprocess_1d", 22, m);
  b.linear(evo + "/preprocess_msa", 49, m);
  if (c.recycle_features) {
    b.layer_norm(evo + "/prev_msa_first_row_norm", m);
    b.layer_norm(evo + "/prev_pair_norm", z);
  }
  if (c.recycle_pos) b.linear(evo + "/prev_pos_linear", c.prev_pos.num_bins, z);
  b.linear(evo + "/right_single", 22, z);
  b.linear(evo + "/single_activations", m, s);
  if (c.templates.enabled) {
    const TemplateConfig& t = c.templates;
    const int64_t tc = t.num_channels();
    const std::string te = evo + "/template_embedding";
    b.attention(te + "/attention", z, tc, z, ModelConfig::resolved(t.attention, static_cast<int>(z), static_cast<int>(tc)),
                {});
    const std::string ste = te + "/single_template_embedding";
    b.linear(ste + "/embedding2d", t.dgram_features.num_bins + 1 + 22 + 22 + 3 + 1, tc);
    b.layer_norm(ste + "/output_layer_norm", tc);
    const TemplatePairStackConfig& ps = t.template_pair_stack;
    b.pair_stack_block(ste + "/template_pair_stack/__layer_stack_no_state", tc,
                       ModelConfig::resolved(ps.triangle_attention_starting, static_cast<int>(tc), static_cast<int>(tc)),
                       ModelConfig::resolved(ps.triangle_attention_ending, static_cast<int>(tc), static_cast<int>(tc)),
                       ps.triangle_multiplication_channels, ps.pair_transition_factor, {ps.num_block});
    if (t.embed_torsion_angles) {
      b.linear(evo + "/template_projection", m, m);
      b.linear(evo + "/template_single_embedding", 22 + 14 + 14 + 7, m);
    }
  }

  // Heads (Suppl. 1.9).
  b.linear(root + "/distogram_head/half_logits", z, c.heads.distogram_num_bins);
  b.linear(root + "/experimentally_resolved_head/logits", s, c.heads.experimentally_resolved_num_atoms);
  b.linear(root + "/masked_msa_head/logits", m, c.heads.masked_msa_num_output);
  if (c.heads.predicted_aligned_error) b.linear(root + "/predicted_aligned_error_head/logits", z, c.heads.pae_num_bins);
  const std::string pl = root + "/predicted_lddt_head";
  b.linear(pl + "/act_0", s, c.heads.plddt_num_channels);
  b.linear(pl + "/act_1", c.heads.plddt_num_channels, c.heads.plddt_num_channels);
  b.layer_norm(pl + "/input_layer_norm", s);
  b.linear(pl + "/logits", c.heads.plddt_num_channels, c.heads.plddt_num_bins);

  // Structure module (Suppl. Alg. 20-24).
  const StructureModuleConfig& sm = c.structure_module;
  const std::string smr = root + "/structure_module";
  const std::string fi = smr + "/fold_iteration";
  const int64_t sc = sm.num_channel, h = sm.num_head;
  b.linear(fi + "/affine_update", sc, 6);
  b.layer_norm(fi + "/attention_layer_norm", sc);
  const std::string ipa = fi + "/invariant_point_attention";
  b.add(ipa, "trainable_point_weights", {h}, {});
  b.linear(ipa + "/attention_2d", z, h);
  b.linear(ipa + "/kv_point_local", sc, h * (sm.num_point_qk + sm.num_point_v) * 3);
  b.linear(ipa + "/kv_scalar", sc, h * (sm.num_scalar_qk + sm.num_scalar_v));
  b.linear(ipa + "/output_projection", h * (sm.num_scalar_v + sm.num_point_v * 4 + z), sc);
  b.linear(ipa + "/q_point_local", sc, h * sm.num_point_qk * 3);
  b.linear(ipa + "/q_scalar", sc, h * sm.num_scalar_qk);
  const std::string rs = fi + "/rigid_sidechain";
  const int64_t ac = sm.angle_channels;
  b.linear(rs + "/input_projection", sc, ac);
  b.linear(rs + "/input_projection_1", sc, ac);
  for (int r = 0; r < sm.angle_residual_blocks; ++r) {
    const std::string suffix = r == 0 ? "" : "_" + std::to_string(r);
    b.linear(rs + "/resblock1" + suffix, ac, ac);
    b.linear(rs + "/resblock2" + suffix, ac, ac);
  }
  b.linear(rs + "/unnormalized_angles", ac, 14);
  for (int l = 0; l < sm.num_layer_in_transition; ++l)
    b.linear(fi + "/transition" + (l == 0 ? std::string() : "_" + std::to_string(l)), sc, sc);
  b.layer_norm(fi + "/transition_layer_norm", sc);
  b.linear(smr + "/initial_projection", sc, sc);
  b.layer_norm(smr + "/pair_layer_norm", z);
  b.layer_norm(smr + "/single_layer_norm", sc);

  std::sort(spec.begin(), spec.end(), [](const ParamSpec& x, const ParamSpec& y) { return x.key < y.key; });
  return spec;
}

}  // namespace axf::model
