// ModelConfig: AlphaFold2 monomer model settings under AlphaFold's own config names and numbers
// (alphafold/model/config.py; Suppl. Table 5 for the five model variants). Presets model_1..model_5 and
// their _ptm versions; every number can be overridden from a configs/*.cfg file or the command line.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace axf::model {

struct AttentionConfig {
  int num_head = 8;
  int key_dim = 0;    // total over heads; 0 = channels of the query input (AlphaFold's default)
  int value_dim = 0;  // total over heads; 0 = channels of the memory input
  bool gating = true;
};

struct DgramConfig {
  float min_bin = 3.25f;
  float max_bin = 20.75f;
  int num_bins = 15;
};

// One Evoformer-style block; the extra-MSA stack uses the same numbers with its own channel width.
struct EvoformerBlockConfig {
  AttentionConfig msa_row_attention{8, 0, 0, true};
  AttentionConfig msa_column_attention{8, 0, 0, true};
  int msa_transition_factor = 4;
  int outer_product_channels = 32;
  bool outer_product_first = false;
  int triangle_multiplication_channels = 128;
  AttentionConfig triangle_attention_starting{4, 0, 0, true};
  AttentionConfig triangle_attention_ending{4, 0, 0, true};
  int pair_transition_factor = 4;
};

struct TemplatePairStackConfig {
  int num_block = 2;
  AttentionConfig triangle_attention_starting{4, 64, 64, true};
  AttentionConfig triangle_attention_ending{4, 64, 64, true};
  int triangle_multiplication_channels = 64;
  int pair_transition_factor = 2;
};

struct TemplateConfig {
  bool enabled = false;
  bool embed_torsion_angles = false;
  int max_templates = 4;
  AttentionConfig attention{4, 64, 64, false};
  DgramConfig dgram_features{3.25f, 50.75f, 39};
  TemplatePairStackConfig template_pair_stack;
  bool use_template_unit_vector = false;
  // Channels of the template pair representation (AlphaFold: template_pair_stack ending-node value_dim).
  int num_channels() const { return template_pair_stack.triangle_attention_ending.value_dim; }
};

struct StructureModuleConfig {
  int num_layer = 8;
  int num_channel = 384;
  int num_head = 12;
  int num_scalar_qk = 16;
  int num_point_qk = 4;
  int num_scalar_v = 16;
  int num_point_v = 8;
  int num_layer_in_transition = 3;
  int angle_channels = 128;          // sidechain.num_channel
  int angle_residual_blocks = 2;     // sidechain.num_residual_block
  float position_scale = 10.0f;
};

struct HeadsConfig {
  float distogram_first_break = 2.3125f;
  float distogram_last_break = 21.6875f;
  int distogram_num_bins = 64;
  bool predicted_aligned_error = false;  // the _ptm presets
  float pae_max_error_bin = 31.0f;
  int pae_num_bins = 64;
  int plddt_num_bins = 50;
  int plddt_num_channels = 128;
  int masked_msa_num_output = 23;
  int experimentally_resolved_num_atoms = 37;
};

// Data-pipeline numbers that shape the model inputs (AlphaFold data.common / data.eval).
struct DataConfig {
  int max_msa_clusters = 512;
  int max_extra_msa = 1024;
  bool reduce_msa_clusters_by_max_templates = false;
  bool use_templates = false;
  int num_recycle = 3;
};

struct ModelConfig {
  std::string preset = "model_1_ptm";
  int msa_channel = 256;
  int pair_channel = 128;
  int seq_channel = 384;
  int extra_msa_channel = 64;
  int evoformer_num_block = 48;
  int extra_msa_stack_num_block = 4;
  int max_relative_feature = 32;
  DgramConfig prev_pos{3.25f, 20.75f, 15};
  bool recycle_features = true;
  bool recycle_pos = true;
  EvoformerBlockConfig evoformer;
  TemplateConfig templates;
  StructureModuleConfig structure_module;
  HeadsConfig heads;
  DataConfig data;

  // Attention widths resolved against channel counts (AlphaFold's "key_dim defaults to input channels").
  static AttentionConfig resolved(AttentionConfig a, int query_channels, int memory_channels);
};

// The built-in presets: model_1 .. model_5 and model_1_ptm .. model_5_ptm. Throws for an unknown name.
ModelConfig model_config(const std::string& preset);
std::vector<std::string> preset_names();

// Overrides from "name = value" pairs using the dotted names written by config_to_pairs (e.g.
// "evoformer_num_block", "templates.enabled"); unknown names are errors that name the key.
void apply_overrides(ModelConfig& config, const std::map<std::string, std::string>& values, const std::string& source);
std::vector<std::pair<std::string, std::string>> config_to_pairs(const ModelConfig& config);

}  // namespace axf::model
