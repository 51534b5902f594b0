#include "model/config.h"

#include <functional>
#include <sstream>

#include "core/error.h"

namespace axf::model {

AttentionConfig ModelConfig::resolved(AttentionConfig a, int query_channels, int memory_channels) {
  if (a.key_dim == 0) a.key_dim = query_channels;
  if (a.value_dim == 0) a.value_dim = memory_channels;
  AXF_CHECK(a.num_head > 0 && a.key_dim % a.num_head == 0 && a.value_dim % a.num_head == 0,
            "attention widths key_dim=", a.key_dim, ", value_dim=", a.value_dim, " not divisible by ", a.num_head,
            " heads");
  return a;
}

std::vector<std::string> preset_names() {
  std::vector<std::string> names;
  for (int i = 1; i <= 5; ++i) names.push_back("model_" + std::to_string(i));
  for (int i = 1; i <= 5; ++i) names.push_back("model_" + std::to_string(i) + "_ptm");
  return names;
}

ModelConfig model_config(const std::string& preset) {
  // AlphaFold CONFIG_DIFFS: models 1-2 use templates (with torsion-angle rows in the MSA); models 1, 3, 4
  // sample 5120 extra sequences; the _ptm variants add the predicted aligned error head.
  int model = 0;
  bool ptm = false;
  for (int i = 1; i <= 5; ++i) {
    if (preset == "model_" + std::to_string(i)) model = i;
    if (preset == "model_" + std::to_string(i) + "_ptm") {
      model = i;
      ptm = true;
    }
  }
  if (model == 0) {
    std::string known;
    for (const auto& n : preset_names()) known += (known.empty() ? "" : ", ") + n;
    AXF_FAIL("unknown model preset '", preset, "' (known: ", known, ")");
  }
  ModelConfig c;
  c.preset = preset;
  const bool templates = model == 1 || model == 2;
  c.templates.enabled = templates;
  c.templates.embed_torsion_angles = templates;
  c.data.use_templates = templates;
  c.data.reduce_msa_clusters_by_max_templates = templates;
  c.data.max_extra_msa = (model == 1 || model == 3 || model == 4) ? 5120 : 1024;
  c.heads.predicted_aligned_error = ptm;
  return c;
}

namespace {

struct Field {
  std::string name;
  std::function<std::string(const ModelConfig&)> get;
  std::function<void(ModelConfig&, const std::string&)> set;
};

template <typename T>
T parse_value(const std::string& text, const std::string& key, const std::string& source) {
  std::istringstream is(text);
  T v{};
  if constexpr (std::is_same_v<T, bool>) {
    if (text == "true" || text == "1" || text == "on" || text == "yes") return true;
    if (text == "false" || text == "0" || text == "off" || text == "no") return false;
    AXF_FAIL(source, ": key '", key, "': expected true/false, got '", text, "'");
  } else {
    is >> v;
    AXF_CHECK(!is.fail() && is.eof(), source, ": key '", key, "': cannot parse '", text, "'");
  }
  return v;
}

template <typename T>
std::string show(const T& v) {
  std::ostringstream os;
  if constexpr (std::is_same_v<T, bool>) {
    os << (v ? "true" : "false");
  } else {
    os << v;
  }
  return os.str();
}

template <typename T>
Field field(std::string name, T ModelConfig::*member) {
  return {name, [member](const ModelConfig& c) { return show(c.*member); },
          [member, name](ModelConfig& c, const std::string& v) { c.*member = parse_value<T>(v, name, ""); }};
}

template <typename S, typename T>
Field nested(std::string name, S ModelConfig::*outer, T S::*member) {
  return {name, [outer, member](const ModelConfig& c) { return show(c.*outer.*member); },
          [outer, member, name](ModelConfig& c, const std::string& v) {
            c.*outer.*member = parse_value<T>(v, name, "");
          }};
}

const std::vector<Field>& fields() {
  static const std::vector<Field> f = {
      field("preset", &ModelConfig::preset),
      field("msa_channel", &ModelConfig::msa_channel),
      field("pair_channel", &ModelConfig::pair_channel),
      field("seq_channel", &ModelConfig::seq_channel),
      field("extra_msa_channel", &ModelConfig::extra_msa_channel),
      field("evoformer_num_block", &ModelConfig::evoformer_num_block),
      field("extra_msa_stack_num_block", &ModelConfig::extra_msa_stack_num_block),
      field("max_relative_feature", &ModelConfig::max_relative_feature),
      field("recycle_features", &ModelConfig::recycle_features),
      field("recycle_pos", &ModelConfig::recycle_pos),
      nested("templates.enabled", &ModelConfig::templates, &TemplateConfig::enabled),
      nested("templates.embed_torsion_angles", &ModelConfig::templates, &TemplateConfig::embed_torsion_angles),
      nested("templates.max_templates", &ModelConfig::templates, &TemplateConfig::max_templates),
      nested("templates.use_template_unit_vector", &ModelConfig::templates, &TemplateConfig::use_template_unit_vector),
      {"templates.template_pair_stack.num_block",
       [](const ModelConfig& c) { return show(c.templates.template_pair_stack.num_block); },
       [](ModelConfig& c, const std::string& v) {
         c.templates.template_pair_stack.num_block = parse_value<int>(v, "templates.template_pair_stack.num_block", "");
       }},
      nested("structure_module.num_layer", &ModelConfig::structure_module, &StructureModuleConfig::num_layer),
      nested("heads.predicted_aligned_error", &ModelConfig::heads, &HeadsConfig::predicted_aligned_error),
      nested("data.max_msa_clusters", &ModelConfig::data, &DataConfig::max_msa_clusters),
      nested("data.max_extra_msa", &ModelConfig::data, &DataConfig::max_extra_msa),
      nested("data.reduce_msa_clusters_by_max_templates", &ModelConfig::data,
             &DataConfig::reduce_msa_clusters_by_max_templates),
      nested("data.use_templates", &ModelConfig::data, &DataConfig::use_templates),
      nested("data.num_recycle", &ModelConfig::data, &DataConfig::num_recycle),
  };
  return f;
}

}  // namespace

void apply_overrides(ModelConfig& config, const std::map<std::string, std::string>& values,
                     const std::string& source) {
  for (const auto& [key, value] : values) {
    bool found = false;
    for (const auto& f : fields()) {
      if (f.name != key) continue;
      try {
        f.set(config, value);
      } catch (const Error& e) {
        AXF_FAIL(source, ": key '", key, "': invalid value '", value, "'");
      }
      found = true;
    }
    AXF_CHECK(found, source, ": unknown model config key '", key, "'");
  }
  AXF_CHECK(config.evoformer_num_block >= 0 && config.extra_msa_stack_num_block >= 0, source,
            ": block counts must be >= 0");
}

std::vector<std::pair<std::string, std::string>> config_to_pairs(const ModelConfig& config) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& f : fields()) out.emplace_back(f.name, f.get(config));
  return out;
}

}  // namespace axf::model
